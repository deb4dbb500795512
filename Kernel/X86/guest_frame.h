/* The guest register frame svm.S and vmx.S load and store (a vCPU's frame 1): GuestState.registers order, 8 bytes
   each (rax rcx rdx rbx rbp rsi rdi r8..r15). On SVM word 0 (rax) is unused: VMRUN loads rax from the VMCB.
   X86GuestPlatform/X86VMXPlatform copy the same words (copyGuestRegisters). For C and assembly alike. */
#ifndef GUEST_FRAME_H
#define GUEST_FRAME_H
#define G_RAX 0
#define G_RCX 8
#define G_RDX 16
#define G_RBX 24
#define G_RBP 32
#define G_RSI 40
#define G_RDI 48
#define G_R8 56
#define G_R9 64
#define G_R10 72
#define G_R11 80
#define G_R12 88
#define G_R13 96
#define G_R14 104
#define G_R15 112
#endif
