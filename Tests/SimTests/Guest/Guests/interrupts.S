// External interrupts: held while IF=0, taken after STI and the one instruction in its shadow.
    .intel_syntax noprefix
    .code64
    .globl start, at_sti, in_shadow, after_shadow, done, after_halt, irq_handler
start:
    xor r12, r12
    nop
    nop
at_sti:
    sti
in_shadow:
    mov r13, 1
after_shadow:
    mov r14, 2
done:
    hlt
after_halt:
    jmp done
irq_handler:
    mov r10, r13                // what the interrupted code had done
    mov r11, r14
    inc r12
    iretq
