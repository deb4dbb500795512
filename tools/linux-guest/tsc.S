// The guest's clock at its init marker, for tools/bench-linux: a static x86-64 Linux program (no libc) that reads
// the TSC once and prints "LINUX-GUEST: tsc <decimal>" on stdout. The init runs it right after its marker line.
// Under QEMU -icount shift=0 (direct, or the hypervisor's guest, whose TSC offset is 0) the TSC counts virtual
// nanoseconds, one per instruction; in the simulator it is the guest CPU's instruction clock.
    .intel_syntax noprefix
    .data
prefix:
    .ascii "LINUX-GUEST: tsc "
    .set prefix_length, . - prefix
buffer:
    .space 40
digits_end:
    .ascii "\n"
line_end:

    .globl _start
    .text
_start:
    rdtsc
    shl rdx, 32
    or rax, rdx
    // Decimal digits, written backwards from the end of the buffer (before its newline).
    lea rdi, [rip + digits_end]
    mov rcx, 10
1:  xor edx, edx
    div rcx
    add dl, '0'
    dec rdi
    mov [rdi], dl
    test rax, rax
    jnz 1b
    // The prefix goes right before the digits.
    mov rcx, prefix_length
    lea rsi, [rip + prefix + prefix_length]
2:  dec rsi
    dec rdi
    mov al, [rsi]
    mov [rdi], al
    loop 2b
    // write(1, rdi, end - rdi)
    lea rdx, [rip + line_end]
    sub rdx, rdi
    mov rsi, rdi
    mov edi, 1
    mov eax, 1
    syscall
    // exit(0)
    xor edi, edi
    mov eax, 60
    syscall

