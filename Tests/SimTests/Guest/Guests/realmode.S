// Real mode: an injected interrupt goes through the IVT.
    .code16
    .globl start, done, handler
start:
    xor %bx, %bx
    sti
    nop
done:
    hlt
handler:
    inc %bx
    iret
