/* Intel VMX host state: detection, IA32_FEATURE_CONTROL, the controls computed from the capability MSRs, VMXON,
   and this CPU's MSR bitmap, I/O bitmaps and host MSR-load area. Like svm.c's maps they are per CPU, not per
   vCPU: the MSR bitmap is one fixed policy for every guest, and the I/O bitmaps are rewritten only when a vCPU of a
   VM PD with other ports runs (X86VMXPlatform.swift caches what is installed).

   Invariants: once x86_vmx_setup returned a count > 0 the CPU stays in VMX root operation (CR4.VMXE set, VMXON
   done); the MSR bitmap intercepts every MSR except the ones listed in guest_owned_msrs (ABI.md "Virtual
   machines"), of which FS_BASE, GS_BASE and the SYSENTER MSRs are VMCS guest fields and the others are switched
   through the guest MSR area (VM-entry load, VM-exit store) and host_msrs (VM-exit load); the I/O bitmaps
   intercept every port the running VM PD holds no I/O capability for. */
#include "x86.h"
#include "vmx.h"
#include "cpu.h"
#include "guest_msrs.h"

#define MSR_FEATURE_CONTROL 0x3a
#define FEATURE_CONTROL_LOCK (1u << 0)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX (1u << 2)
#define MSR_PAT 0x277
#define MSR_VMX_BASIC 0x480
#define MSR_VMX_PINBASED 0x481
#define MSR_VMX_PROCBASED 0x482
#define MSR_VMX_EXIT 0x483
#define MSR_VMX_ENTRY 0x484
#define MSR_VMX_MISC 0x485
#define MSR_VMX_CR0_FIXED0 0x486
#define MSR_VMX_CR0_FIXED1 0x487
#define MSR_VMX_CR4_FIXED0 0x488
#define MSR_VMX_CR4_FIXED1 0x489
#define MSR_VMX_PROCBASED2 0x48b
#define MSR_VMX_EPT_VPID_CAP 0x48c
#define MSR_VMX_TRUE_PINBASED 0x48d
#define MSR_VMX_TRUE_PROCBASED 0x48e
#define MSR_VMX_TRUE_EXIT 0x48f
#define MSR_VMX_TRUE_ENTRY 0x490
#define CR4_VMXE (1ull << 13)

/* The controls (SDM vol. 3, 25.6-25.8): what the kernel needs, never more. */
#define PIN_EXTERNAL_INTERRUPT (1u << 0)
#define PIN_NMI (1u << 3)
#define PRIMARY_INTERRUPT_WINDOW (1u << 2)
#define PRIMARY_TSC_OFFSET (1u << 3)
#define PRIMARY_HLT (1u << 7)
#define PRIMARY_TPR_SHADOW (1u << 21)
#define PRIMARY_IO_BITMAPS (1u << 25)
#define PRIMARY_MSR_BITMAPS (1u << 28)
#define PRIMARY_SECONDARY (1u << 31)
#define SECONDARY_EPT (1u << 1)
#define SECONDARY_RDTSCP (1u << 3)
#define SECONDARY_VPID (1u << 5)
#define SECONDARY_UNRESTRICTED (1u << 7)
#define SECONDARY_INVPCID (1u << 12)
#define EXIT_SAVE_DEBUG (1u << 2)
#define EXIT_HOST_64 (1u << 9)
#define EXIT_SAVE_PAT (1u << 18)
#define EXIT_LOAD_PAT (1u << 19)
#define EXIT_SAVE_EFER (1u << 20)
#define EXIT_LOAD_EFER (1u << 21)
#define ENTRY_LOAD_DEBUG (1u << 2)
#define ENTRY_IA32E (1u << 9)
#define ENTRY_LOAD_PAT (1u << 14)
#define ENTRY_LOAD_EFER (1u << 15)

/* Controls that must not be forced on: pin 5-7 (virtual NMIs, preemption timer, posted interrupts); primary 9-12
   (INVLPG, MWAIT, RDPMC, RDTSC exiting), 15-16 (CR3 load/store), 19-20 (CR8 load/store), 22-24 (NMI window, MOV DR,
   unconditional I/O), 27 (monitor trap flag), 29-30 (MONITOR, PAUSE); exit 15 (acknowledge interrupt: the kernel
   takes a pending interrupt itself), 22 (save preemption timer); entry 10-11 (SMM). */
#define PIN_FORBIDDEN 0xe0u
#define PRIMARY_FORBIDDEN (0xfu << 9 | 3u << 15 | 3u << 19 | 7u << 22 | 1u << 27 | 3u << 29)
#define EXIT_FORBIDDEN (1u << 15 | 1u << 22)
#define ENTRY_FORBIDDEN (3u << 10)

/* IA32_VMX_EPT_VPID_CAP bits. */
#define EPT_WALK_4 (1ull << 6)
#define EPT_WRITE_BACK (1ull << 14)
#define EPT_2M (1ull << 16)
#define EPT_1G (1ull << 17)
#define EPT_INVEPT (1ull << 20)
#define EPT_INVEPT_ALL (1ull << 26)
#define VPID_INVVPID (1ull << 32)
#define VPID_INVVPID_SINGLE (1ull << 41)
#define VPID_INVVPID_ALL (1ull << 42)

/* VPIDs handed to VM PDs: the CPU has 65535; a few dozen cover every VM PD a machine's quota allows at once, and
   the allocator recycles beyond that (GuestTagAllocator), so its free list stays small. */
#define VPID_LIMIT 64

static uint8_t vmxon_region[4096] __attribute__((aligned(4096)));
static uint8_t msr_bitmap[4096] __attribute__((aligned(4096)));
static uint8_t io_bitmaps[2 * 4096] __attribute__((aligned(4096)));
static struct x86_vmx_config config;
static const char *unavailable = "not probed";
static uint64_t current_vmcs;

static const uint32_t switched[] = {0xc0000102, 0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084};
#define SWITCHED_COUNT (sizeof switched / sizeof switched[0])

/* VM-exit MSR-load area (SDM 25.7.2): 16 bytes per MSR, the host's values of switched[]. */
static struct {
    uint32_t index, reserved;
    uint64_t value;
} host_msrs[SWITCHED_COUNT] __attribute__((aligned(16)));

/* Clears the read and write intercept bits of `msr` (read bitmaps for 0..0x1fff at 0 and 0xc0000000.. at 1024,
   write bitmaps at 2048 and 3072). */
static void pass_msr(uint32_t msr) {
    uint32_t base;
    if (msr < 0x2000) base = 0;
    else if (msr - 0xc0000000u < 0x2000) base = 1024;
    else return;
    uint32_t bit = msr & 0x1fff;
    msr_bitmap[base + bit / 8] &= (uint8_t)~(1u << (bit % 8));
    msr_bitmap[base + 2048 + bit / 8] &= (uint8_t)~(1u << (bit % 8));
}

/* A control word: `wanted` must be allowed to be 1 (bits 32-63 of the capability MSR); the bits the CPU forces to
   1 (bits 0-31) are added, which must not include any of `forbidden` (controls whose exits or effects the kernel
   does not handle; the reserved "default1" bits are harmless). 0 with `unavailable` set when not. */
static int control(uint32_t msr, uint32_t wanted, uint32_t forbidden, uint32_t *result, const char *what) {
    uint64_t capability = rdmsr(msr);
    uint32_t allowed0 = (uint32_t)capability, allowed1 = (uint32_t)(capability >> 32);
    if ((wanted & allowed1) != wanted) {
        unavailable = what;
        return 0;
    }
    if (allowed0 & forbidden) {
        unavailable = what;
        return 0;
    }
    *result = wanted | allowed0;
    return 1;
}

static uint64_t read_cr0(void) {
    uint64_t v;
    __asm__ volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}
static uint64_t read_cr4(void) {
    uint64_t v;
    __asm__ volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}
static void write_cr0(uint64_t v) { __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory"); }
static void write_cr4(uint64_t v) { __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory"); }

struct __attribute__((packed)) table_register {
    uint16_t limit;
    uint64_t base;
};

uint32_t x86_vmx_setup(void) {
    uint32_t a, b, c, d;
    cpuid(1, &a, &b, &c, &d);
    if (!(c & (1u << 5))) {
        unavailable = "the CPU has no VMX";
        return 0;
    }
    uint64_t feature = rdmsr(MSR_FEATURE_CONTROL);
    if (!(feature & FEATURE_CONTROL_LOCK)) {
        /* The firmware left it open (Bochs' BIOS does): allow VMXON outside SMX and lock it, as firmware would. */
        feature |= FEATURE_CONTROL_VMX_OUTSIDE_SMX | FEATURE_CONTROL_LOCK;
        wrmsr(MSR_FEATURE_CONTROL, feature);
    }
    if (!(feature & FEATURE_CONTROL_VMX_OUTSIDE_SMX)) {
        unavailable = "the firmware locked VMX off (IA32_FEATURE_CONTROL)";
        return 0;
    }
    uint64_t basic = rdmsr(MSR_VMX_BASIC);
    int true_controls = (basic >> 55) & 1;
    uint64_t capabilities = rdmsr(MSR_VMX_EPT_VPID_CAP);
    uint64_t needed = EPT_WALK_4 | EPT_WRITE_BACK | EPT_2M | EPT_INVEPT | EPT_INVEPT_ALL | VPID_INVVPID |
                      VPID_INVVPID_SINGLE | VPID_INVVPID_ALL;
    /* The kernel maps with 1 GiB leaves wherever the CPU has them (Platform.supportsGigabytePages): EPT must too. */
    if (x86_has_gigabyte_pages()) needed |= EPT_1G;
    if ((capabilities & needed) != needed) {
        unavailable = "EPT or VPID lacks what the kernel needs (4-level write-back tables, 2 MiB/1 GiB leaves, "
                      "INVEPT all-context, INVVPID single/all-context)";
        return 0;
    }

    struct x86_vmx_config k = {0};
    k.revision = (uint32_t)basic & 0x7fffffff;
    uint32_t secondary_wanted = SECONDARY_EPT | SECONDARY_VPID | SECONDARY_UNRESTRICTED;
    uint64_t secondary_capability = rdmsr(MSR_VMX_PROCBASED2) >> 32;
    /* Without these a guest's RDTSCP / INVPCID would raise #UD where an SVM guest runs them: on when offered. */
    secondary_wanted |= (uint32_t)secondary_capability & (SECONDARY_RDTSCP | SECONDARY_INVPCID);
    /* Interrupt-window exiting and IA-32e mode guest must be allowed; the platform sets them per entry. */
    uint32_t primary_wanted = PRIMARY_INTERRUPT_WINDOW | PRIMARY_TSC_OFFSET | PRIMARY_HLT | PRIMARY_TPR_SHADOW |
                              PRIMARY_IO_BITMAPS | PRIMARY_MSR_BITMAPS | PRIMARY_SECONDARY;
    if (!control(true_controls ? MSR_VMX_TRUE_PINBASED : MSR_VMX_PINBASED, PIN_EXTERNAL_INTERRUPT | PIN_NMI,
                 PIN_FORBIDDEN, &k.pin, "pin-based controls (external-interrupt and NMI exiting)") ||
        !control(true_controls ? MSR_VMX_TRUE_PROCBASED : MSR_VMX_PROCBASED, primary_wanted, PRIMARY_FORBIDDEN,
                 &k.primary,
                 "processor-based controls (HLT and interrupt-window exiting, TSC offset, TPR shadow, I/O and MSR "
                 "bitmaps)") ||
        !control(MSR_VMX_PROCBASED2, secondary_wanted, ~secondary_wanted, &k.secondary,
                 "secondary controls (EPT, VPID, unrestricted guest)") ||
        !control(true_controls ? MSR_VMX_TRUE_EXIT : MSR_VMX_EXIT,
                 EXIT_SAVE_DEBUG | EXIT_HOST_64 | EXIT_SAVE_PAT | EXIT_LOAD_PAT | EXIT_SAVE_EFER | EXIT_LOAD_EFER,
                 EXIT_FORBIDDEN, &k.exit, "VM-exit controls (64-bit host, EFER and PAT switching)") ||
        !control(true_controls ? MSR_VMX_TRUE_ENTRY : MSR_VMX_ENTRY,
                 ENTRY_LOAD_DEBUG | ENTRY_IA32E | ENTRY_LOAD_PAT | ENTRY_LOAD_EFER, ENTRY_FORBIDDEN, &k.entry,
                 "VM-entry controls (IA-32e mode guest, EFER and PAT loading)")) {
        return 0;
    }
    k.interrupt_window = PRIMARY_INTERRUPT_WINDOW;
    k.primary &= ~PRIMARY_INTERRUPT_WINDOW;
    k.entry_ia32e = ENTRY_IA32E;
    k.entry &= ~ENTRY_IA32E;
    uint64_t cr0_fixed0 = rdmsr(MSR_VMX_CR0_FIXED0), cr4_fixed0 = rdmsr(MSR_VMX_CR4_FIXED0);
    k.cr0_fixed1 = rdmsr(MSR_VMX_CR0_FIXED1);
    k.cr4_fixed1 = rdmsr(MSR_VMX_CR4_FIXED1);
    k.cr0_forced = cr0_fixed0 & ~0x80000001ull; /* unrestricted guest: PE and PG are the guest's */
    k.cr4_forced = cr4_fixed0;
    k.zero_length_injection = (rdmsr(MSR_VMX_MISC) >> 30) & 1;
    k.vpid_count = VPID_LIMIT;

    /* VMX operation: the CR0/CR4 bits it needs (the host already runs with PE, PG and NE), then VMXON. */
    uint64_t cr0 = read_cr0() | cr0_fixed0, cr4 = read_cr4() | cr4_fixed0 | CR4_VMXE;
    if ((cr0 & ~k.cr0_fixed1) || (cr4 & ~k.cr4_fixed1)) {
        unavailable = "the host's CR0/CR4 do not fit VMX operation";
        return 0;
    }
    write_cr0(cr0);
    write_cr4(cr4);
    *(volatile uint32_t *)vmxon_region = k.revision;
    uint64_t region = (uint64_t)(uintptr_t)vmxon_region;
    uint8_t failed;
    __asm__ volatile("vmxon %1; setna %0" : "=q"(failed) : "m"(region) : "cc", "memory");
    if (failed) {
        write_cr4(cr4 & ~CR4_VMXE);
        unavailable = "VMXON failed";
        return 0;
    }

    k.host_cr0 = cr0;
    k.host_cr4 = cr4;
    k.host_efer = rdmsr(MSR_EFER);
    k.host_pat = rdmsr(MSR_PAT);
    struct table_register gdtr, idtr;
    __asm__ volatile("sgdt %0" : "=m"(gdtr));
    __asm__ volatile("sidt %0" : "=m"(idtr));
    k.host_gdtr_base = gdtr.base;
    k.host_idtr_base = idtr.base;
    /* The TSS descriptor at selector 0x28 (descriptors.c): base bits 0-23, 24-31 and 32-63. */
    const uint64_t *gdt = (const uint64_t *)(uintptr_t)gdtr.base;
    k.host_tr_base = ((gdt[5] >> 16) & 0xffffff) | ((gdt[5] >> 56) & 0xff) << 24 | (gdt[6] & 0xffffffff) << 32;

    for (uint32_t i = 0; i < sizeof msr_bitmap; i++) msr_bitmap[i] = 0xff;
    for (uint32_t i = 0; i < GUEST_OWNED_MSR_COUNT; i++) pass_msr(guest_owned_msrs[i]);
    for (uint32_t i = 0; i < SWITCHED_COUNT; i++) {
        host_msrs[i].index = switched[i];
        host_msrs[i].value = rdmsr(switched[i]);
    }
    x86_vmx_set_io_permissions(0);
    config = k;
    unavailable = 0;
    return k.vpid_count;
}

const struct x86_vmx_config *x86_vmx_configuration(void) { return &config; }

extern void x86_vmx_exit(void);
uint64_t x86_vmx_exit_address(void) { return (uint64_t)(uintptr_t)x86_vmx_exit; }
uint32_t x86_vmx_vpid_count(void) { return config.vpid_count; }
const char *x86_vmx_unavailable_reason(void) { return unavailable ? unavailable : ""; }
uint64_t x86_vmx_msr_bitmap(void) { return (uint64_t)(uintptr_t)msr_bitmap; }
uint64_t x86_vmx_io_bitmaps(void) { return (uint64_t)(uintptr_t)io_bitmaps; }
uint64_t x86_vmx_host_msr_area(void) { return (uint64_t)(uintptr_t)host_msrs; }
uint32_t x86_vmx_switched_msr_count(void) { return SWITCHED_COUNT; }
uint32_t x86_vmx_switched_msr(uint32_t index) { return index < SWITCHED_COUNT ? switched[index] : 0; }

void x86_vmx_set_io_permissions(const uint64_t *allowed_words) {
    uint64_t *map = (uint64_t *)(void *)io_bitmaps;
    for (uint32_t i = 0; i < 1024; i++) map[i] = allowed_words ? ~allowed_words[i] : ~(uint64_t)0;
}

/* The VMX instructions report failure in CF (VMfailInvalid) and ZF (VMfailValid). */
#define VMX_RESULT(insn, operand)                                                                                     \
    ({                                                                                                                \
        uint8_t invalid, valid;                                                                                       \
        __asm__ volatile(insn " %2; setc %0; setz %1" : "=q"(invalid), "=q"(valid) : operand : "cc", "memory");       \
        invalid ? 1 : valid ? 2 : 0;                                                                                  \
    })

int x86_vmx_clear(uint64_t vmcs) {
    if (current_vmcs == vmcs) current_vmcs = 0;
    return VMX_RESULT("vmclear", "m"(vmcs));
}

int x86_vmx_load(uint64_t vmcs) {
    if (current_vmcs == vmcs) return 0;
    int result = VMX_RESULT("vmptrld", "m"(vmcs));
    current_vmcs = result == 0 ? vmcs : 0;
    return result;
}

/* INVVPID / INVEPT take the type in a register and a 128-bit descriptor in memory. */
static int invalidate_vpid(uint64_t type, uint64_t vpid) {
    struct {
        uint64_t vpid, linear;
    } descriptor = {vpid, 0};
    uint8_t invalid, valid;
    __asm__ volatile("invvpid %2, %3; setc %0; setz %1"
                     : "=q"(invalid), "=q"(valid)
                     : "m"(descriptor), "r"(type)
                     : "cc", "memory");
    return invalid ? 1 : valid ? 2 : 0;
}

int x86_vmx_flush_vpid(uint64_t vpid) { return invalidate_vpid(1, vpid); }
int x86_vmx_flush_all_vpids(void) { return invalidate_vpid(2, 0); }

int x86_vmx_flush_ept(void) {
    struct {
        uint64_t eptp, reserved;
    } descriptor = {0, 0};
    uint64_t type = 2; /* all-context */
    uint8_t invalid, valid;
    __asm__ volatile("invept %2, %3; setc %0; setz %1"
                     : "=q"(invalid), "=q"(valid)
                     : "m"(descriptor), "r"(type)
                     : "cc", "memory");
    return invalid ? 1 : valid ? 2 : 0;
}

uint64_t x86_vmx_instruction_error(void) { return x86_vmread(0x4400); }
