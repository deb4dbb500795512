/* guest-triplefault: an INT3 with an empty IDT: #BP cannot be delivered (#GP), nor can #GP (#DF), nor #DF: the CPU
   shuts down. Documented outcome: the VMM stops this VM alone with "triple fault (shutdown)". */
#include "guest.inc"
main:
    PRINT   before
    lea     empty_idt(%rip), %rax
    lidt    (%rax)
    int3
    PRINT   after
    FINISH
before: .asciz "triplefault: int3 with an empty IDT\n"
after:  .asciz "FAIL triplefault: the guest went on\n"
    .balign 8
empty_idt:
    .word   0
    .quad   0
