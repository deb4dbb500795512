// Benchmark guests: a tight loop (2 instructions per block), a wider loop (8 per block), and a CPUID exit loop.
    .intel_syntax noprefix
    .code64
    .globl tight, wide, exits, done
tight:
    dec rcx
    jnz tight
done:
    hlt
wide:
    add rax, 1
    add rbx, 2
    xor rdx, rax
    add rsi, rdx
    sub rdi, 3
    lea r8, [r8 + rax]
    dec rcx
    jnz wide
    hlt
exits:
    cpuid
    jmp exits
