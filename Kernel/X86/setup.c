/* Brings the CPU from the loader's state into the kernel's: own page tables, segments, traps, syscall, interrupts. */
#include "x86.h"
#include "cpu.h"
#include "svm.h"
#include "vmx.h"

extern void x86_syscall_entry(void);

int x86_setup(struct hv_boot_info *info) {
    x86_serial_init();
    if (!x86_setup_heap(info)) return 0;
    x86_setup_paging(info);
    x86_setup_descriptors();
    /* syscall: kernel CS 0x08 (SS 0x10); sysret base 0x10 gives user SS 0x1b and CS 0x23 (see descriptors.c).
       SFMASK clears IF, TF, DF, AC, NT and IOPL on entry. */
    wrmsr(MSR_STAR, (uint64_t)0x10 << 48 | (uint64_t)0x08 << 32);
    wrmsr(MSR_LSTAR, (uint64_t)(uintptr_t)x86_syscall_entry);
    wrmsr(MSR_SFMASK, 0x47700);
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE | EFER_NXE);
    /* EFER.SVME and the host save area when the CPU has SVM with nested paging; else VMX operation when it has VMX
       with EPT, VPID and unrestricted guest (X86GuestVendor.swift picks the backend from what was found). */
    if (x86_svm_setup() == 0) x86_vmx_setup();
    x86_setup_interrupt_controllers();
    x86_calibrate_timer();
    return 1;
}
