/* The world switch into a VMX guest and back (include/vmx.h). The guest's rsp, rip, rflags, segments and control
   registers other than CR2 live in its VMCS; its general registers and CR2 in `gprs` (GuestState.registers order
   rax rcx rdx rbx rbp rsi rdi r8..r15, then CR2); its x87/SSE state in `fpu`.

   Order (interrupts off throughout; the guest runs with its own RFLAGS.IF, and a physical interrupt exits):
     save host callee-saved registers and the arguments on the stack; fxrstor guest; HOST_RSP = rsp, HOST_CR3 = cr3;
     CR2 = guest's; load guest GPRs; VMLAUNCH or VMRESUME. A failure falls through (nothing ran, the guest
     registers are in the host's: they are dropped). A VM exit (or a VM-entry failure the CPU reports as one) comes
     to x86_vmx_exit with rsp = HOST_RSP and the host's CR0/CR3/CR4, segments, EFER, PAT and the MSRs of the VM-exit
     MSR-load area restored by the CPU (GDTR/IDTR limits 0xffff, TR limit 0x67: x86_reload_task_register); there
     the guest GPRs and CR2 are stored, fxsave guest, return. */
    .intel_syntax noprefix

#include "guest_frame.h"
    .set G_CR2, 120

    /* Stack offsets after the pushes below (what HOST_RSP points at). */
    .set S_LAUNCHED, 0
    .set S_FPU, 8
    .set S_GPRS, 16

    .set VMCS_HOST_CR3, 0x6c02
    .set VMCS_HOST_RSP, 0x6c14

    .text
/* uint64_t x86_vmx_run(uint64_t *gprs, uint64_t *fpu, uint64_t launched) */
    .global x86_vmx_run
x86_vmx_run:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    push rdi
    push rsi
    push rdx
    fxrstor64 [rsi]
    mov rax, VMCS_HOST_RSP
    vmwrite rax, rsp
    mov rax, cr3
    mov rcx, VMCS_HOST_CR3
    vmwrite rcx, rax
    mov rax, [rdi + G_CR2]
    mov cr2, rax
    mov rax, [rdi + G_RAX]
    mov rcx, [rdi + G_RCX]
    mov rdx, [rdi + G_RDX]
    mov rbx, [rdi + G_RBX]
    mov rbp, [rdi + G_RBP]
    mov rsi, [rdi + G_RSI]
    mov r8, [rdi + G_R8]
    mov r9, [rdi + G_R9]
    mov r10, [rdi + G_R10]
    mov r11, [rdi + G_R11]
    mov r12, [rdi + G_R12]
    mov r13, [rdi + G_R13]
    mov r14, [rdi + G_R14]
    mov r15, [rdi + G_R15]
    mov rdi, [rdi + G_RDI]
    cmp qword ptr [rsp + S_LAUNCHED], 0
    jne 1f
    vmlaunch
    jmp 2f
1:  vmresume
2:  /* Only a failed VMLAUNCH/VMRESUME gets here: CF = VMfailInvalid, ZF = VMfailValid (mov keeps the flags). */
    mov eax, 2
    jnc 3f
    mov eax, 1
3:  add rsp, 24
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret

    .global x86_vmx_exit
x86_vmx_exit:
    push rax
    mov rax, [rsp + 8 + S_GPRS]
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
    pop rcx
    mov [rax + G_RAX], rcx
    mov rcx, cr2
    mov [rax + G_CR2], rcx
    mov rcx, [rsp + S_FPU]
    fxsave64 [rcx]
    xor eax, eax
    add rsp, 24
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret
