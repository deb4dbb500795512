/* The bare-metal shims the Swift platform (X86Platform.swift) calls. Everything here is single-CPU and runs with
   interrupts disabled except inside x86_idle and user mode. */
#ifndef HV_X86_H
#define HV_X86_H

#include <stddef.h>
#include <stdint.h>
#include "boot_info.h"

/* Why x86_enter_user returned. */
enum { X86_EXIT_SYSCALL = 0, X86_EXIT_TRAP = 1 };

/* Interrupt vectors: device IRQ n arrives at X86_IRQ_VECTOR_BASE + n (IOAPIC), the LAPIC timer at X86_TIMER_VECTOR. */
#define X86_IRQ_VECTOR_BASE 32
#define X86_IRQ_COUNT 24
#define X86_TIMER_VECTOR 64
/* Message-signalled interrupt n (MSI/MSI-X, kernel interrupt number 24 + n) arrives at X86_MSI_VECTOR_BASE + n. */
#define X86_MSI_VECTOR_BASE 80
#define X86_MSI_COUNT 32
/* The IOMMU's fault event interrupt (vtd.c). */
#define X86_VTD_FAULT_VECTOR 112
#define X86_SPURIOUS_VECTOR 255
/* The legacy PIC is remapped here and masked; anything it still raises is ignored. */
#define X86_PIC_VECTOR_BASE 0xe0

/* Exit values (x86_exit_emulator): QEMU exits with status value * 2 + 1 (tools/run); Bochs prints them (tools/run-bochs). */
#define X86_EXIT_PASS 0x10       /* status 33: nothing can run any more, the kernel stopped cleanly */
#define X86_EXIT_FAULT 0x11      /* status 35: a CPU exception in kernel mode (kernel bug) */
#define X86_EXIT_BOOT_ERROR 0x12 /* status 37: bad boot information, bundle or root task */

/* The multiboot2 entry (multiboot2.S, multiboot2.c): GRUB's boot information at `mbi` as the hv_boot_info the EFI
   loader would pass (magic 0 when `from_multiboot2` is 0: the loader was not a multiboot2 one). */
struct hv_boot_info *x86_multiboot2_boot_info(uint64_t mbi, uint64_t from_multiboot2);

/* Boot: the kernel heap (taken off info's free list), page tables, GDT, TSS, IDT, syscall MSRs, PIC/IOAPIC/LAPIC,
   timer calibration. Returns 0 when no free region can hold the kernel heap (nothing else is set up then). */
int x86_setup(struct hv_boot_info *info);
/* Physical address of the kernel PML4; its slot 0 (the supervisor identity map) is shared by every PD. Inline: it
   is read on every address-space switch. */
extern uint64_t x86_kernel_pml4_table[512];
static inline uint64_t x86_kernel_pml4(void) { return (uint64_t)(uintptr_t)x86_kernel_pml4_table; }

/* The kernel heap behind posix_memalign/free (heap.c): an arena carved from free RAM at boot (kernel_heap.c). */
void heap_init(void *base, size_t size);
size_t heap_used_bytes(void);
/* Where the arena lies (physical = virtual: identity mapped), so it is never handed out as device memory. */
void heap_arena(uint64_t *base, uint64_t *size);

/* Serial console (COM1). */
void x86_serial_write(uint8_t byte);
/* Leaves the emulator with `value`: QEMU through isa-debug-exit, Bochs through its 0xe9 console and shutdown port
   (serial.c); halts forever where neither exists. */
_Noreturn void x86_exit_emulator(uint32_t value);

/* User mode. */
/* `registers`: the EC's UserContext, whose first 18 words are the user registers in the order traps.S loads and
   stores them (F_* offsets there; checked at boot by UserContext.hasStubLayout), loaded before entering user mode and
   stored by every exit, so no register is copied in Swift; rflags is sanitised on the way in (arithmetic and
   direction flags only, IF forced on).
   `fpu_state`: the EC's FXSAVE image (512 bytes, 16-byte aligned), handled the same way. */
uint64_t x86_enter_user(void *registers, uint64_t *fpu_state);
/* Vector, error code and CR2 of the last X86_EXIT_TRAP. */
uint64_t x86_trap_vector(void);
uint64_t x86_trap_error(void);
uint64_t x86_trap_cr2(void);
/* Sets the TSS I/O bitmap: bit set in `allowed_words` = port allowed; NULL = no ports. */
void x86_set_io_permissions(const uint64_t *allowed_words);
/* Host NMIs taken so far (traps.S counts them; VMX NMI exits add theirs with x86_note_nmi). */
extern volatile uint64_t x86_nmi_count;
static inline uint64_t x86_host_nmis(void) { return x86_nmi_count; }
static inline void x86_note_nmi(void) { __atomic_fetch_add(&x86_nmi_count, 1, __ATOMIC_RELAXED); }
/* Enables interrupts, halts until one arrives, disables them again; returns its vector. */
uint64_t x86_idle(void);

/* Address spaces. Inline: the IPC path switches address spaces on every message. */
static inline uint64_t x86_read_cr3(void) {
    uint64_t value;
    __asm__ volatile("mov %%cr3, %0" : "=r"(value));
    return value;
}
static inline void x86_write_cr3(uint64_t root) { __asm__ volatile("mov %0, %%cr3" : : "r"(root) : "memory"); }
void x86_invalidate_page(uint64_t address);
/* Whether the CPU has 1 GiB pages (CPUID 0x80000001 EDX bit 26, "pdpe1gb"). */
static inline int x86_has_gigabyte_pages(void) {
    uint32_t a = 0x80000000u, b, c, d;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "=c"(c), "=d"(d));
    if (a < 0x80000001u) return 0;
    a = 0x80000001u;
    c = 0;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    return (d >> 26) & 1;
}

/* Physical address bits (CPUID 0x80000008 EAX[7:0]); 36 when the CPU does not say. */
static inline unsigned x86_physical_address_bits(void) {
    uint32_t a = 0x80000000u, b, c, d;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "=c"(c), "=d"(d));
    if (a < 0x80000008u) return 36;
    a = 0x80000008u;
    c = 0;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    return a & 0xff;
}

/* Time: TSC ticks; the LAPIC timer is programmed in TSC ticks through the calibration done in x86_setup. Inline:
   the kernel reads it around every user run to bill scheduling contexts. */
static inline uint64_t x86_tsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}
uint64_t x86_tsc_per_millisecond(void);
void x86_timer_arm(uint64_t ticks_from_now);
void x86_timer_cancel(void);

/* Interrupt controllers. Pins are IOAPIC inputs (GSIs); `x86_ioapic_route` programs one (left masked). */
void x86_ioapic_mask(uint32_t pin, int masked);
void x86_ioapic_route(uint32_t pin, uint32_t vector, int level, int active_low);

/* ACPI (acpi.c): the table with `signature` (4 characters) and its length; the result says why not. */
enum { X86_ACPI_FOUND = 0, X86_ACPI_NO_RSDP, X86_ACPI_BAD_RSDP, X86_ACPI_BAD_ROOT, X86_ACPI_NOT_LISTED,
       X86_ACPI_TOO_LARGE };
int x86_acpi_find_table(uint64_t rsdp_address, const char *signature, const uint8_t **found, uint32_t *length);
int x86_acpi_find_madt(uint64_t rsdp_address, const uint8_t **found, uint32_t *length);
int x86_acpi_find_dmar(uint64_t rsdp_address, const uint8_t **found, uint32_t *length);
void x86_lapic_eoi(void);
/* VT-d (vtd.c): one remapping unit at `base`; x86_vtd_enable turns DMA translation on with every device blocked
   (returns X86_VTD_ON, or why not; `domains` = how many domain IDs the unit has), x86_vtd_bind points a device's
   context entry at a DMA table (0: blocked) tagged `domain`, x86_vtd_flush drops that domain's IOTLB entries,
   x86_vtd_take_fault reads and clears one fault recording register (`low` fault info, `high` source, reason,
   type; 0 when none is left). x86_vtd_enable_interrupt_remapping installs an all-not-present remapping table
   (256 entries) and turns interrupt remapping on, compatibility format blocked; x86_vtd_set_remapping_entry writes
   entry `handle` and invalidates its interrupt entry cache entry; x86_vtd_remapping_entry reads it back. All wait
   for the hardware, a bounded time: bind, flush and set return 0 when it never completed. */
enum { X86_VTD_ON = 0, X86_VTD_NO_4_LEVEL, X86_VTD_ALREADY_ON, X86_VTD_TIMEOUT, X86_VTD_NO_INTERRUPT_REMAPPING,
       X86_VTD_NO_QUEUE };
int x86_vtd_enable(uint64_t base, uint32_t fault_vector, uint32_t apic_id, uint32_t *domains);
int x86_vtd_bind(uint32_t requester, uint64_t table, uint32_t domain);
int x86_vtd_flush(uint32_t domain);
int x86_vtd_take_fault(uint64_t *low, uint64_t *high);
int x86_vtd_enable_interrupt_remapping(void);
int x86_vtd_set_remapping_entry(uint32_t handle, uint64_t low, uint64_t high);
void x86_vtd_remapping_entry(uint32_t handle, uint64_t *low, uint64_t *high);
/* The IOAPIC's id (its ID register) and a whole redirection entry of `pin` (high dword first, so a remappable
   entry is never live with half of its handle). */
uint32_t x86_ioapic_id(void);
void x86_ioapic_write_entry(uint32_t pin, uint64_t entry);
/* This CPU's local APIC id (the destination of its MSI messages). */
uint32_t x86_lapic_id(void);

#endif
