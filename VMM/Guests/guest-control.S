/* guest-control: control-register writes and cache instructions that SVM runs in hardware and a VMX host has to
   complete itself (INVD: both kernels complete it; WBINVD: the SVM kernel), which must look the same to the guest: CR0.NE flipped and restored (VMX forces NE; the kernel
   keeps the guest's value in the read shadow), CR0.TS set by a write and cleared by CLTS, INVD and WBINVD. */
#include "guest.inc"
main:
    mov     %cr0, %rax
    mov     %rax, %r12               /* CR0 as the guest was entered */
    btc     $5, %rax                 /* NE flipped */
    mov     %rax, %cr0
    mov     %cr0, %rbx
    cmp     %rax, %rbx
    CHECK   cr0-ne-flip-reads-back
    mov     %r12, %cr0
    mov     %cr0, %rbx
    cmp     %r12, %rbx
    CHECK   cr0-ne-restored
    mov     %cr0, %rax
    bts     $3, %rax                 /* TS: no x87/SSE instruction until CLTS */
    mov     %rax, %cr0
    mov     %cr0, %rbx
    bt      $3, %rbx
    setc    %al
    clts
    mov     %cr0, %rbx
    bt      $3, %rbx
    setnc   %ah
    cmp     $0x0101, %ax
    CHECK   cr0-ts-set-then-cleared-by-clts
    invd
    wbinvd
    cmp     %rax, %rax
    CHECK   invd-and-wbinvd-complete
    FINISH
