/* guest-invalid: fixed invalid byte sequences and their documented outcome, #UD through the guest's own IDT (the
   handler skips the sequence's length, kept in r13): UD2 (0f 0b), UD1 (0f b9 /r), a LOCK prefix on NOP (f0 90),
   GETSEC without CR4.SMXE (0f 37). */
#include "guest.inc"
.macro EXPECT_UD length, name
    xor     %r14, %r14
    mov     $\length, %r13
.endm
main:
    LOAD_IDT
    GATE    6, invalid_opcode
    EXPECT_UD 2
    ud2
    cmp     $1, %r14
    CHECK   invalid-ud2
    EXPECT_UD 3
    .byte   0x0f, 0xb9, 0xc0        /* ud1 %eax, %eax */
    cmp     $1, %r14
    CHECK   invalid-ud1
    EXPECT_UD 2
    .byte   0xf0, 0x90              /* lock nop */
    cmp     $1, %r14
    CHECK   invalid-lock-nop
    EXPECT_UD 2
    .byte   0x0f, 0x37              /* getsec */
    cmp     $1, %r14
    CHECK   invalid-getsec
    FINISH
invalid_opcode:
    mov     $1, %r14
    add     %r13, (%rsp)
    iretq
