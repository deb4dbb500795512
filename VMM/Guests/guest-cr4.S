/* guest-cr4: CR4 writes go through the VMM, which allows the features its CPUID model shows (PGE here) and answers
   the others (OSXSAVE, XSAVE being hidden) with #GP(0), which the guest's own IDT handler takes. */
#include "guest.inc"
main:
    LOAD_IDT
    GATE    13, general_protection
    mov     %cr4, %rax
    or      $(1 << 7), %rax          /* PGE */
    mov     %rax, %cr4               /* 0f 22 e0: 3 bytes */
    mov     %cr4, %rbx
    bt      $7, %rbx
    setc    %al
    cmp     $1, %al
    CHECK   cr4-pge-allowed
    xor     %r14, %r14
    mov     %cr4, %rax
    bts     $18, %rax                /* OSXSAVE */
    mov     %rax, %cr4
    cmp     $1, %r14
    CHECK   cr4-osxsave-refused-with-gp
    mov     %cr4, %rbx
    bt      $18, %rbx
    setc    %al
    cmp     $0, %al
    CHECK   cr4-osxsave-stays-clear
    FINISH
general_protection:
    pop     %r12                     /* error code */
    mov     $1, %r14
    addq    $3, (%rsp)               /* past the refused write */
    iretq
