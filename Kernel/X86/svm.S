/* The world switch into an SVM guest and back (include/svm.h). The guest's rax, rsp, rip, rflags and segment
   state live in its VMCB; its other general registers in `gprs`, in GuestState.registers order (rax rcx rdx rbx rbp
   rsi rdi r8..r15; word 0, rax, is unused here: VMRUN loads it from the VMCB); its x87/SSE state in `fpu`.

   Order (interrupts off throughout, except that VMRUN itself runs with IF = 1 and GIF = 0):
     save host callee-saved registers; fxrstor guest; VMSAVE host FS/GS/TR/LDTR/syscall MSRs; VMLOAD guest's;
     load guest GPRs; CLGI; STI; VMRUN; (#VMEXIT: host rax, rsp, rip, rflags, CR*, EFER, GDTR/IDTR, CS/SS/DS/ES
     restored by the CPU, GIF = 0); CLI; store guest GPRs; VMSAVE guest; VMLOAD host; STGI (IF = 0: a pending
     interrupt stays pending for x86_take_pending_interrupt); fxsave guest; return. */
    .intel_syntax noprefix

#include "guest_frame.h"

    /* Stack offsets after the pushes below. */
    .set S_FPU, 0
    .set S_HOST, 8
    .set S_GPRS, 16
    .set S_VMCB, 24

    .text
/* void x86_svm_run(uint64_t vmcb, uint64_t *gprs, uint64_t host_area, uint64_t *fpu) */
    .global x86_svm_run
x86_svm_run:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    push rdi
    push rsi
    push rdx
    push rcx
    fxrstor64 [rcx]
    mov rax, rdx
    vmsave rax
    mov rax, rdi
    vmload rax
    mov rcx, [rsi + G_RCX]
    mov rdx, [rsi + G_RDX]
    mov rbx, [rsi + G_RBX]
    mov rbp, [rsi + G_RBP]
    mov rdi, [rsi + G_RDI]
    mov r8, [rsi + G_R8]
    mov r9, [rsi + G_R9]
    mov r10, [rsi + G_R10]
    mov r11, [rsi + G_R11]
    mov r12, [rsi + G_R12]
    mov r13, [rsi + G_R13]
    mov r14, [rsi + G_R14]
    mov r15, [rsi + G_R15]
    mov rsi, [rsi + G_RSI]
    clgi
    sti
    vmrun rax
    cli
    mov rax, [rsp + S_GPRS]
    mov [rax + G_RCX], rcx
    mov [rax + G_RDX], rdx
    mov [rax + G_RBX], rbx
    mov [rax + G_RBP], rbp
    mov [rax + G_RSI], rsi
    mov [rax + G_RDI], rdi
    mov [rax + G_R8], r8
    mov [rax + G_R9], r9
    mov [rax + G_R10], r10
    mov [rax + G_R11], r11
    mov [rax + G_R12], r12
    mov [rax + G_R13], r13
    mov [rax + G_R14], r14
    mov [rax + G_R15], r15
    mov rax, [rsp + S_VMCB]
    vmsave rax
    mov rax, [rsp + S_HOST]
    vmload rax
    stgi
    pop rcx
    fxsave64 [rcx]
    add rsp, 24
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret
