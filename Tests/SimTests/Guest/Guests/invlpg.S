// INVLPG, intercepted optionally.
    .intel_syntax noprefix
    .code64
    .globl start, at_invlpg, done
start:
    mov rbx, 0x123000
at_invlpg:
    invlpg [rbx + 0x45]
done:
    hlt
