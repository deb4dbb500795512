/* guest-cpuid: the VMM's fixed CPUID model (VMM/Monitor/CPUIDModel.swift) as a guest sees it. */
#include "guest.inc"
main:
    xor     %eax, %eax
    cpuid
    cmp     $7, %eax                /* highest basic leaf */
    CHECK   cpuid-max-leaf
    xor     %eax, %eax
    cpuid
    cmp     $0x75475648, %ebx       /* "HVGu" "estM" "odel" */
    jne     1f
    cmp     $0x4d747365, %edx
    jne     1f
    cmp     $0x6c65646f, %ecx
1:  CHECK   cpuid-vendor
    mov     $1, %eax
    cpuid
    bt      $31, %ecx               /* the hypervisor bit is set */
    setc    %al
    cmp     $1, %al
    CHECK   cpuid-hypervisor-bit
    mov     $1, %eax
    cpuid
    test    $(1 << 5 | 1 << 26 | 1 << 27 | 1 << 28 | 1 << 30 | 1 << 21 | 1 << 24), %ecx  /* VMX XSAVE OSXSAVE AVX RDRAND x2APIC TSC-deadline */
    CHECK   cpuid-hidden-features
    mov     $1, %eax
    cpuid
    and     $(1 << 0 | 1 << 19 | 1 << 20 | 1 << 23), %ecx  /* SSE3 SSE4.1 SSE4.2 POPCNT */
    cmp     $(1 << 0 | 1 << 19 | 1 << 20 | 1 << 23), %ecx
    CHECK   cpuid-baseline
    mov     $0x80000001, %eax
    cpuid
    test    $(1 << 2), %ecx         /* SVM hidden */
    CHECK   cpuid-no-svm
    mov     $0x80000001, %eax
    cpuid
    bt      $29, %edx               /* long mode */
    setc    %al
    cmp     $1, %al
    CHECK   cpuid-long-mode
    mov     $0x40000000, %eax       /* an unknown leaf reads as zeros */
    cpuid
    or      %ebx, %eax
    or      %ecx, %eax
    or      %edx, %eax
    CHECK   cpuid-unknown-leaf-zero
    FINISH
