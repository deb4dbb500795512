/* guest-io: port I/O of every size through the VMM's test latch (ports 0xe0-0xe3), and string I/O (REP OUTSB to
   COM1, REP INSB from the latch). */
#include "guest.inc"
main:
    mov     $LATCH, %dx
    mov     $0x5a, %al
    outb    %al, %dx
    xor     %eax, %eax
    inb     %dx, %al
    cmp     $0x5a, %al
    CHECK   io-byte
    mov     $LATCH, %dx
    mov     $0xbeef, %ax
    outw    %ax, %dx
    xor     %eax, %eax
    inw     %dx, %ax
    cmp     $0xbeef, %ax
    CHECK   io-word
    mov     $LATCH, %dx
    mov     $0x12345678, %eax
    outl    %eax, %dx
    mov     $-1, %rax
    inl     %dx, %eax               /* a 32-bit IN zero-extends into rax */
    mov     $0x12345678, %rcx
    cmp     %rcx, %rax
    CHECK   io-dword
    mov     $(LATCH + 1), %dx       /* a byte in the middle of the latch */
    inb     %dx, %al
    cmp     $0x56, %al
    CHECK   io-byte-offset
    lea     string_line(%rip), %rsi
    mov     $(string_line_end - string_line), %rcx
    mov     $COM1, %dx
    cld
    rep outsb
    test    %rcx, %rcx              /* rcx counted down to 0 */
    CHECK   io-rep-outsb
    mov     $LATCH, %dx
    mov     $0x44332211, %eax
    outl    %eax, %dx
    lea     buffer(%rip), %rdi
    mov     $4, %rcx
    mov     $LATCH, %dx
    rep insb                        /* four reads of the latch's first byte */
    lea     buffer(%rip), %rax
    cmpl    $0x11111111, (%rax)
    CHECK   io-rep-insb
    lea     buffer(%rip), %rax
    add     $4, %rax
    cmp     %rax, %rdi              /* rdi advanced by 4 */
    CHECK   io-rep-insb-rdi
    FINISH
string_line: .ascii "string-io: this line came through rep outsb\n"
string_line_end:
    .balign 8                       /* data lives in the one segment too: the guest's map is writable */
buffer: .quad 0, 0
