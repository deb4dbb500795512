/* uint64_t x86_user_xmm_hold(uint64_t pattern, uint64_t ticks): fills xmm0..xmm15 with pattern + register number,
   spins `ticks` TSC ticks using only general registers (so the EC is preempted while the vector registers hold live
   values), then returns how many of them changed (low 32 bits) and how many times the spin loop saw the TSC jump
   by more than ticks/8, i.e. the EC was not running (high 32 bits). Used by the fpucheck image test component. */
    .intel_syntax noprefix
    .text
    .global x86_user_xmm_hold
x86_user_xmm_hold:
    .irp r, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    lea rax, [rdi + \r]
    movq xmm\r, rax
    .endr
    mov r11, rsi
    shr r11, 3                  /* a gap longer than this means another EC ran */
    xor ecx, ecx                /* gaps seen */
    rdtsc
    shl rdx, 32
    or rax, rdx
    mov r8, rax                 /* start */
    mov r9, rax                 /* previous reading */
1:  rdtsc
    shl rdx, 32
    or rax, rdx
    mov r10, rax
    sub r10, r9
    cmp r10, r11
    jb 2f
    inc rcx
2:  mov r9, rax
    sub rax, r8
    cmp rax, rsi
    jb 1b
    shl rcx, 32
    .irp r, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    movq rax, xmm\r
    lea rdx, [rdi + \r]
    cmp rax, rdx
    setne dl
    movzx edx, dl
    add rcx, rdx
    .endr
    mov rax, rcx
    ret
