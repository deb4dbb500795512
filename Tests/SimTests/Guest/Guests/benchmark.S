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
// Touches rcx pages from 0x200000 on (one write each): the cost of first touches (TLB fill + engine mapping).
    .globl touch
touch:
    mov rbx, 0x200000
1:
    mov [rbx], rbx
    add rbx, 0x1000
    dec rcx
    jnz 1b
    hlt
