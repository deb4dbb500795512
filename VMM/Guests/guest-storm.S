/* guest-storm: an exit storm, 2,000 CPUIDs in a row; the VMM serves every one and the other VMs and components go
   on meanwhile (the vCPU runs at the lowest priority with its own budget). */
#include "guest.inc"
main:
    mov     $2000, %r12d
1:  xor     %eax, %eax
    cpuid
    dec     %r12d
    jnz     1b
    cmp     $0x75475648, %ebx       /* the last CPUID still answered by the model */
    CHECK   storm-2000-cpuid-exits
    FINISH
