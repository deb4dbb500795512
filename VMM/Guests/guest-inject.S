/* guest-inject: exceptions the VMM injects on the guest's request (VMMCALL rax=1: vector in rbx, with the error
   code in rcx when rdx is 1) arrive through the guest's own IDT, after the VMMCALL; so does a software interrupt
   (rax=3, vector in rbx), whose pushed return address is the instruction after the VMMCALL. */
#include "guest.inc"
main:
    LOAD_IDT
    GATE    6, invalid_opcode
    GATE    13, general_protection
    xor     %r14, %r14
    mov     $1, %eax
    mov     $6, %ebx
    xor     %edx, %edx
    vmmcall
    cmp     $1, %r14
    CHECK   inject-ud
    xor     %r14, %r14
    mov     $1, %eax
    mov     $13, %ebx
    mov     $1, %edx
    mov     $0x1234, %ecx
    vmmcall
    cmp     $2, %r14
    CHECK   inject-gp
    cmp     $0x1234, %r12
    CHECK   inject-gp-error-code
    mov     $2, %eax                /* an unknown request: rax = ~0 */
    vmmcall
    cmp     $-1, %rax
    CHECK   vmmcall-unknown
    GATE    0x30, software_interrupt
    xor     %r14, %r14
    mov     $3, %eax
    mov     $0x30, %ebx
    vmmcall
after_int:
    cmp     $3, %r14
    CHECK   inject-int-0x30
    lea     after_int(%rip), %rax
    cmp     %rax, %r12
    CHECK   inject-int-returns-after-the-call
    FINISH
invalid_opcode:
    mov     $1, %r14
    iretq
general_protection:
    pop     %r12
    mov     $2, %r14
    iretq
software_interrupt:
    mov     (%rsp), %r12             /* the return rip */
    mov     $3, %r14
    iretq
