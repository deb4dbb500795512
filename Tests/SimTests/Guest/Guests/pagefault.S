// A guest page fault handled by the guest's own IDT handler: the handler maps the page in the guest's page tables
// and returns; the faulting write is retried. A second path faults while delivering (#PF on an unmapped IST
// stack), which becomes #DF on a good stack.
    .intel_syntax noprefix
    .code64
    .globl start, at_fault, done, pf_handler, df_handler, df_done, at_ud2, at_int3, at_div
start:
    mov rbx, 0x150000
at_fault:
    mov qword ptr [rbx], 0x1234
    mov r8, [rbx]
done:
    hlt
pf_handler:
    pop r13                     // error code
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
    pop r13
    mov r12, 0xdf
df_done:
    hlt
at_ud2:
    ud2
at_int3:
    int3
at_div:
    xor ecx, ecx
    div ecx
    hlt
