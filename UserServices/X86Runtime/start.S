/* The entry table every user binary starts with (UserServices/Runtime/EntryTable.swift): at the ELF entry, one
   16-byte slot per entry; slot 0 runs `user_main`, slot k (1..15) runs `user_handler_<k>`. The per-binary entry file
   (Entries/<binary>.swift) defines them with @_cdecl; a slot whose function is missing stops with ud2. When an
   entry returns, the EC also stops with ud2: its fault handler decides what happens next. rdi is passed through
   (the start-info page for main entries). */
    .intel_syntax noprefix
    .section .text.entry, "ax"
    .global _start
_start:
    .altmacro
    .macro slot k
    .balign 16
    jmp run_entry_\k
    .endm
    .macro runner k
    .weak user_handler_\k
run_entry_\k:
    movabs rax, offset user_handler_\k
    test rax, rax
    jz stop
    and rsp, -16
    call rax
    jmp stop
    .endm

    slot 0
    .set k, 1
    .rept 15
    slot %k
    .set k, k + 1
    .endr

    .balign 16
run_entry_0:
    movabs rax, offset user_main
    and rsp, -16
    call rax
    jmp stop
    .set k, 1
    .rept 15
    runner %k
    .set k, k + 1
    .endr

stop:
    ud2
    jmp stop
