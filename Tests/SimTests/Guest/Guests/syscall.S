// A guest kernel with its own user space: SYSCALL from ring 3 into LSTAR (which Unicorn does not perform itself),
// SYSRET back, a second SYSCALL that ends the test.
    .intel_syntax noprefix
    .code64
    .globl start, user, after_syscall, handler, done
start:
    mov ecx, 0xc0000081         // STAR: kernel CS 0x08 (SS 0x10), user base 0x18 (SS 0x23, CS 0x2b)
    xor eax, eax
    mov edx, 0x00180008
    wrmsr
    mov ecx, 0xc0000082         // LSTAR
    lea rax, [rip + handler]
    xor edx, edx
    wrmsr
    mov ecx, 0xc0000084         // SFMASK: IF
    mov eax, 0x200
    xor edx, edx
    wrmsr
    mov ecx, 0xc0000080         // EFER.SCE
    rdmsr
    or eax, 1
    wrmsr
    push 0x23
    push 0x70000
    push 0x246
    push 0x2b
    lea rax, [rip + user]
    push rax
    iretq
user:
    mov eax, 42
after_syscall:
    syscall
    mov r15, rax
    xor eax, eax
    syscall
handler:
    mov r12, rcx
    mov r13, r11
    mov r14, cs
    pushfq
    pop r10
    cmp eax, 42
    jne done
    mov eax, 43
    sysretq
done:
    hlt
