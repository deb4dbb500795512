// Port I/O of every form: immediate and DX ports, byte/word/dword, string I/O with and without REP, and one port
// (0x61) the hypervisor lets through.
    .intel_syntax noprefix
    .code64
    .globl start, out_byte, out_word, out_dword, in_byte, in_word, in_dword, rep_outsb, outsw, rep_insd, passthrough, done
start:
    mov al, 0x41
out_byte:
    out 0x80, al
    mov dx, 0x3f8
    mov ax, 0x4243
out_word:
    out dx, ax
    mov eax, 0x44454647
out_dword:
    out dx, eax
in_byte:
    in al, 0x60
    mov r8, rax
in_word:
    in ax, dx
    mov r9, rax
in_dword:
    in eax, dx
    mov r10, rax
    lea rsi, [rip + text]
    mov ecx, 3
rep_outsb:
    rep outsb
outsw:
    outsw
    lea rdi, [rip + buffer]
    mov ecx, 2
rep_insd:
    rep insd
    mov al, 0x5a
passthrough:
    out 0x61, al
    in al, 0x61
    mov r11, rax
done:
    hlt
text:
    .ascii "abcdef"
buffer:
    .quad 0, 0
