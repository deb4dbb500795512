/* guest-hlt: HLT with interrupts on is woken by the VMM's tick (vector 0x20 through the guest's own IDT); with the
   flag set by the handler, the guest goes on after the HLT. */
#include "guest.inc"
main:
    LOAD_IDT
    GATE    0x20, tick
    xor     %r14, %r14
    sti
    hlt
    cli
    cmp     $1, %r14
    CHECK   hlt-woken-by-interrupt
    FINISH
tick:
    mov     $1, %r14
    iretq
