// CPUID and HLT exits: the hypervisor answers CPUID, the guest copies the answer and halts.
    .intel_syntax noprefix
    .code64
    .globl start, at_cpuid, at_hlt
start:
    mov eax, 1
    xor ecx, ecx
at_cpuid:
    cpuid
    mov r8, rax
    mov r9, rbx
    mov r10, rcx
    mov r11, rdx
at_hlt:
    hlt
    mov r12, 0x600d
    hlt
