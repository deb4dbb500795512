/* The entry table every user binary starts with (UserServices/Runtime/EntryTable.swift): at the ELF entry, one
   ENTRY_SLOT_SIZE-byte slot per entry (EntryTable.slotSize, passed in by tools/build-image); slot 0 runs
   `user_main`, slot k (1..15) runs `user_handler_<k>`. The per-binary entry file
   (Entries/<binary>.swift) defines them with @_cdecl; a slot whose function is missing stops with ud2. When an
   entry returns, the EC also stops with ud2: its fault handler decides what happens next. rdi is passed through
   (the start-info page for main entries). */
    .intel_syntax noprefix
    .section .text.entry, "ax"
    .global _start
_start:
    .altmacro
#ifndef ENTRY_SLOT_SIZE
#error "ENTRY_SLOT_SIZE (UserServices/Runtime/EntryTable.swift slotSize) must be defined"
#endif
    .macro slot k
    .balign ENTRY_SLOT_SIZE
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
