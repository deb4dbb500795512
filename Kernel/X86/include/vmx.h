/* Intel VMX: what the Swift platform (X86VMXPlatform.swift) needs from vmx.c and vmx.S. Single CPU: the VMXON
   region, the MSR bitmap, the I/O bitmaps and the host's MSR-load area are this CPU's (vmx.c owns them); each vCPU
   has its own VMCS and guest MSR area in its frames. */
#ifndef HV_VMX_H
#define HV_VMX_H

#include <stdint.h>

/* The VM-execution, VM-exit and VM-entry controls x86_vmx_setup computed from the capability MSRs (allowed-0 and
   allowed-1 settings, the TRUE_* MSRs where IA32_VMX_BASIC bit 55 offers them), and the CR0/CR4 bits VMX operation
   forces. `interrupt_window` and `entry_ia32e` are the two bits the platform turns on and off per entry. */
struct x86_vmx_config {
    uint32_t revision;          /* IA32_VMX_BASIC bits 0-30: written into every VMCS */
    uint32_t pin, primary, secondary, exit, entry;
    uint32_t interrupt_window;  /* primary bit 2, when the CPU allows it */
    uint32_t entry_ia32e;       /* entry bit 9 */
    uint64_t cr0_forced;        /* CR0 bits a guest runs with whatever it asked (NE: PE and PG are free with
                                   unrestricted guest) */
    uint64_t cr4_forced;        /* CR4 bits (VMXE) */
    uint64_t cr0_fixed1, cr4_fixed1;
    int zero_length_injection;  /* IA32_VMX_MISC bit 30: a software interrupt may be injected with length 0 */
    uint32_t vpid_count;        /* VPIDs guests may use: 1 ... vpid_count */
    uint64_t host_cr0, host_cr4, host_efer, host_pat, host_gdtr_base, host_idtr_base, host_tr_base;
};

/* Detects VMX with EPT (4-level, write-back, 2 MiB pages, INVEPT all-context), VPID (INVVPID single- and
   all-context), unrestricted guest and TPR shadow; sets IA32_FEATURE_CONTROL if the firmware left it unlocked;
   computes the controls; enters VMX operation (CR4.VMXE, VMXON); fills the MSR bitmap and the host MSR-load area.
   Returns the number of VPIDs (0 when this CPU cannot run guests this way: then nothing was changed, except a
   feature-control MSR the firmware left unlocked). Called once at boot (setup.c), only when SVM is absent. */
uint32_t x86_vmx_setup(void);
const struct x86_vmx_config *x86_vmx_configuration(void);
uint32_t x86_vmx_vpid_count(void);
/* Why x86_vmx_setup returned 0 (a static string), for the boot log. */
const char *x86_vmx_unavailable_reason(void);

/* Physical addresses of this CPU's MSR bitmap (4 KiB), I/O bitmaps A and B (4 KiB each, consecutive) and host
   MSR-load area, and the number of MSRs the guest and host areas switch. */
uint64_t x86_vmx_msr_bitmap(void);
uint64_t x86_vmx_io_bitmaps(void);
uint64_t x86_vmx_host_msr_area(void);
uint32_t x86_vmx_switched_msr_count(void);
/* The MSR numbers the guest MSR area switches, in its order (x86_vmx_switched_msr_count of them). */
uint32_t x86_vmx_switched_msr(uint32_t index);
/* Rewrites the I/O bitmaps: bit set in `allowed_words` (1024 words, IOPermissionBitmap) = port passes through;
   NULL = every port exits. */
void x86_vmx_set_io_permissions(const uint64_t *allowed_words);

/* VMCS handling. Each returns 0 on success, else the VMX instruction failed (1 VMfailInvalid, 2 VMfailValid). */
int x86_vmx_clear(uint64_t vmcs);
/* Makes `vmcs` current (VMPTRLD), unless it already is. */
int x86_vmx_load(uint64_t vmcs);
/* INVVPID single-context for `vpid` (vpid != 0) and all-context (every VPID); INVEPT all-context. */
int x86_vmx_flush_vpid(uint64_t vpid);
int x86_vmx_flush_all_vpids(void);
int x86_vmx_flush_ept(void);
/* The VM-instruction error of the last VMfailValid (VMCS field 0x4400). */
uint64_t x86_vmx_instruction_error(void);

/* VMREAD / VMWRITE of the current VMCS (inline: the world switch reads and writes a few dozen fields). A field
   the CPU does not have reads 0; writes to it are ignored (only fields vmx.c checked for are used). */
static inline uint64_t x86_vmread(uint64_t field) {
    uint64_t value = 0;
    __asm__ volatile("vmread %1, %0" : "+r"(value) : "r"(field) : "cc");
    return value;
}
static inline void x86_vmwrite(uint64_t field, uint64_t value) {
    __asm__ volatile("vmwrite %1, %0" : : "r"(field), "r"(value) : "cc", "memory");
}

/* vmx.S: enters the guest of the current VMCS (VMLAUNCH when `launched` is 0, else VMRESUME) until a VM exit.
   `gprs`: the guest's rax, rcx, rdx, rbx, rbp, rsi, rdi, r8..r15 at words 0..14 (GuestState.registers order) and
   its CR2 at word 15 (the VMCS has no CR2 field), loaded before and stored after. `fpu`: the guest's FXSAVE image
   (512 bytes, 16-byte aligned), restored before and saved after. HOST_RSP and HOST_CR3 are written here (the stack
   and the address space of this entry); HOST_RIP is x86_vmx_exit. Entered and left with IF = 0; with
   external-interrupt exiting and no acknowledge on exit, a physical interrupt ends the guest and stays pending for
   x86_take_pending_interrupt. Returns 0 after a VM exit (or a VM-entry failure reported as an exit), 1 for
   VMfailInvalid, 2 for VMfailValid (then x86_vmx_instruction_error says why; the guest registers are unchanged). */
uint64_t x86_vmx_run(uint64_t *gprs, uint64_t *fpu, uint64_t launched);
/* The address VM exits continue at (HOST_RIP): x86_vmx_exit in vmx.S. */
uint64_t x86_vmx_exit_address(void);

/* descriptors.c: a VM exit sets the host TR limit to 0x67, which cuts off the TSS I/O bitmap: the TSS is loaded
   again (its descriptor marked available first) before ring 3 can run. */
void x86_reload_task_register(void);

#endif
