// RDMSR/WRMSR: intercepted ones exit; the guest's own MSRs (when let through) are kept by the engine; an MSR
// that is neither raises #GP.
    .intel_syntax noprefix
    .code64
    .globl start, at_rdmsr, at_wrmsr, own_msrs, at_unknown, done
start:
    mov ecx, 0x1b
at_rdmsr:
    rdmsr
    mov r8, rax
    mov ecx, 0x277
    mov eax, 0x06040600
    mov edx, 0x00070406
at_wrmsr:
    wrmsr
own_msrs:
    mov ecx, 0xc0000082
    mov eax, 0x12345678
    mov edx, 0x9abc
    wrmsr
    xor eax, eax
    xor edx, edx
    rdmsr
    shl rdx, 32
    or rax, rdx
    mov r9, rax
    mov ecx, 0x1234
at_unknown:
    rdmsr
done:
    hlt
