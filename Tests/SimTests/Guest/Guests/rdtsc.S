// RDTSC twice around a counted loop; the difference is virtual time (guest instructions), never the host's.
    .intel_syntax noprefix
    .code64
    .globl start, first, second, done
start:
    mov ecx, 100
first:
    rdtsc
    shl rdx, 32
    or rax, rdx
    mov r8, rax
1:
    dec ecx
    jnz 1b
second:
    rdtsc
    shl rdx, 32
    or rax, rdx
    mov r9, rax
done:
    hlt
