/* guest-pagefault: a #PF the guest handles itself through its own IDT: reading 3 GiB (no PDPT entry in the boot
   map) faults with CR2 = the address and error code 0 (not present, read, supervisor); the handler skips the
   3-byte load and the guest goes on. */
#include "guest.inc"
main:
    LOAD_IDT
    GATE    14, page_fault
    xor     %r14, %r14
    mov     $0xc0000000, %rbx
    mov     (%rbx), %rax            /* 48 8b 03: 3 bytes */
    cmp     $1, %r14
    CHECK   pagefault-handled
    mov     $0xc0000000, %rax
    cmp     %rax, %r13
    CHECK   pagefault-cr2
    cmp     $0, %r12
    CHECK   pagefault-error-code
    FINISH
page_fault:
    pop     %r12                    /* error code */
    mov     %cr2, %r13
    mov     $1, %r14
    addq    $3, (%rsp)              /* past the faulting load */
    iretq
