// LTR of an available 64-bit TSS, then a CPUID exit: the state read back must hold TR busy (as the CPU holds it),
// so the hypervisor's next entry passes the TR check and the guest halts.
    .intel_syntax noprefix
    .code64
    .globl start, at_cpuid, at_hlt
start:
    mov ax, 0x30
    ltr ax
    xor eax, eax
at_cpuid:
    cpuid
at_hlt:
    hlt
