// Guest-physical accesses the nested mapping does not allow: a read of an unmapped page, a write to a read-only
// page, a call into a page without execute. The guest's own tables map all of them (2 MiB identity pages).
    .intel_syntax noprefix
    .code64
    .globl start, at_read, at_write, at_call, done, again, loop
start:
    mov rbx, 0x300000
at_read:
    mov r8, [rbx]
at_write:
    mov qword ptr [rbx + 0x1000], 0x55
    mov rax, 0x302000
at_call:
    call rax
done:
    hlt
// Reads the same page again and again, halting after each read (for the TLB test).
loop:
    mov r8, [rbx]
again:
    hlt
    jmp loop
