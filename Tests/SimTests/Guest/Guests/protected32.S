// 32-bit protected mode: an injected interrupt through a 32-bit interrupt gate, and an exception with an error code.
    .code32
    .globl start, done, handler, gp_handler, at_fault
start:
    xor %ebx, %ebx
    nop
done:
    hlt
at_fault:
    mov $0x13, %ax
    mov %ax, %ds                // selector 0x10 | RPL 3 beyond the limit -> #GP(0x10)
    hlt
handler:
    inc %ebx
    iret
gp_handler:
    pop %esi                    // error code
    mov $0x6f, %edi
    hlt
