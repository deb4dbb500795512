// Control-register accesses: MOV to CR3 and CR4, MOV from CR0, CLTS.
    .intel_syntax noprefix
    .code64
    .globl start, write_cr3, write_cr4, read_cr0, at_clts, done
start:
    mov rbx, 0x1000
write_cr3:
    mov cr3, rbx
    mov rax, cr4
    or rax, 0x80
write_cr4:
    mov cr4, rax
read_cr0:
    mov r13, cr0
at_clts:
    clts
done:
    hlt
