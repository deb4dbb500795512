/* Kernel entry from the EFI loader: rdi = struct hv_boot_info *, interrupts off, firmware page tables (identity). */
    .intel_syntax noprefix
    .section .text.entry, "ax"
    .global _start
_start:
    lea rsp, [rip + kernel_stack_top]
    xor ebp, ebp
    call kernel_main            /* Swift, never returns */
1:  cli
    hlt
    jmp 1b

    .section .bss
    .balign 4096
    /* Left unmapped (paging.c): a kernel stack overflow faults here instead of overwriting .data; the #DF that
       follows runs on IST1 and prints the register dump. */
    .global x86_kernel_stack_guard
x86_kernel_stack_guard:
    .skip 4096
kernel_stack:
    .skip 262144
    .global kernel_stack_top
kernel_stack_top:
