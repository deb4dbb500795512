/* guest-unmapped: touches guest-physical 512 MiB (mapped by its own page tables, beyond the RAM its VM was given).
   Documented outcome: a nested page fault, and the VMM stops this VM with "touched guest-physical 0x20000000, which
   is not its RAM"; nothing after the access runs. */
#include "guest.inc"
main:
    PRINT   before
    mov     $0x20000000, %rbx
    mov     (%rbx), %rax
    PRINT   after
    FINISH
before: .asciz "unmapped: touching guest-physical 0x20000000\n"
after:  .asciz "FAIL unmapped: the access went on\n"
