/* AMD SVM: what the Swift platform (X86GuestPlatform.swift) needs from svm.c and svm.S. Single CPU: the host save
   area, the host's VMSAVE image and the I/O and MSR permission maps are this CPU's (svm.c owns them). */
#ifndef HV_SVM_H
#define HV_SVM_H

#include <stdint.h>

/* Detects SVM with nested paging (CPUID 0x80000001 ECX bit 2, 0x8000000A EDX bit 0), sets EFER.SVME and
   VM_HSAVE_PA, fills the MSR permission map. Returns the number of ASIDs (ASID 0 is the host's), 0 when this CPU
   cannot run guests (then nothing was changed). Called once at boot (setup.c). */
uint32_t x86_svm_setup(void);
/* The ASID count x86_svm_setup found (0: no SVM). */
uint32_t x86_svm_asid_count(void);
/* Physical addresses of this CPU's I/O permission map (12 KiB) and MSR permission map (8 KiB). */
uint64_t x86_svm_iopm(void);
uint64_t x86_svm_msrpm(void);
/* Rewrites the I/O permission map: bit set in `allowed_words` (1024 words, IOPermissionBitmap) = port passes
   through; NULL = every port is intercepted. */
void x86_svm_set_io_permissions(const uint64_t *allowed_words);

/* svm.S: runs the guest of `vmcb` (physical = virtual) until #VMEXIT. `gprs`: the guest's rcx, rdx, rbx, rbp,
   rsi, rdi, r8..r15 at words 1..14 (word 0, rax, lives in the VMCB), loaded before VMRUN and stored after.
   `fpu`: the guest's FXSAVE image (512 bytes, 16-byte aligned), restored before and saved after. Between VMSAVE of
   the host's FS/GS/TR/LDTR/syscall MSRs and their VMLOAD after the exit, the guest's are loaded from / saved to
   the VMCB. Interrupts: entered and left with IF = 0; VMRUN runs with GIF = 0 and IF = 1 so that a physical
   interrupt ends the guest (INTR intercept) and stays pending until the caller takes it. */
void x86_svm_run(uint64_t vmcb, uint64_t *gprs, uint64_t host_area, uint64_t *fpu);
/* Physical address of the host's VMSAVE area (svm.c). */
extern uint8_t x86_svm_host_area_page[4096];
static inline uint64_t x86_svm_host_area(void) { return (uint64_t)(uintptr_t)x86_svm_host_area_page; }

/* traps.S: takes one pending interrupt (sti; nop; cli) and returns its vector, or -1 when none was pending. */
uint64_t x86_take_pending_interrupt(void);

#endif
