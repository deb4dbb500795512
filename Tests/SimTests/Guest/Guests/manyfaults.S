// Four page faults in a row, each handled by the guest (Unicorn's pending-exception state must not turn the
// second into #DF), then a VMM-injected #PF with its error code.
    .intel_syntax noprefix
    .code64
    .globl start, done, pf_handler, df_handler
start:
    mov rbx, 0x150000
    mov ecx, 4
1:
    mov qword ptr [rbx], rcx
    add rbx, 0x1000
    dec ecx
    jnz 1b
done:
    hlt
pf_handler:
    pop r13
    mov r14, cr2
    mov rax, r14
    shr rax, 12
    mov rdx, rax
    shl rdx, 12
    or rdx, 3
    mov [0x4000 + rax * 8], rdx
    invlpg [r14]
    inc r15
    iretq
df_handler:
    mov r12, 0xdf
    hlt
