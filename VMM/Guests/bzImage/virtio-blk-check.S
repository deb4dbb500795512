/*
 * virtio-blk-check: a tiny "Linux" kernel (a bzImage by its setup header, protocol 2.15, 64-bit entry) for the VMM's
 * PC, so a test exercises the guest's virtio-blk disk without booting Linux. Entered by the 64-bit boot protocol
 * (identity map of the first 4 GiB, interrupts off); it drives the modern virtio-pci function at 00:01.0 through
 * BAR 4 with the VMM's layout (common configuration at +0, device configuration at +0x2000, notifications at
 * +0x3000, 4 bytes apart) and one split queue of 16, polling the used ring (the device completes a request during
 * the notifying write). On COM1, one line per step:
 *     VMBLK: capacity <n> sectors, <writable|read-only>
 *     VMBLK: sector 0 says <up to 64 bytes of sector 0, to its first NUL or newline>
 *     VMBLK: write 96 sectors at sector 16: status <s>
 *     VMBLK: flush: status <s>
 *     VMBLK: read 96 sectors at sector 16: status <s>
 *     VMBLK: read back: match | differs at byte <n>
 *     VMBLK: read past the end: status <s>
 *     VMBLK: done
 * then it powers off (ACPI PM1a control, SLP_TYP 5 | SLP_EN). A setup failure prints "VMBLK: error: <what>" and
 * powers off. The 48 KiB written are qword k = (k + 1) * 0x9e3779b97f4a7c15, little-endian.
 * Built flat (objcopy -O binary): the setup header is at its file offsets, the 64-bit entry at 0x400 + 0x200.
 */
#define COM1        0x3f8
#define PM1A_CNT    0x604
#define QUEUE       0x300000            /* descriptors; available ring at +0x1000, used ring at +0x2000 */
#define AVAIL       (QUEUE + 0x1000)
#define USED        (QUEUE + 0x2000)
#define HEADER      0x310000
#define STATUS      0x310100
#define WBUF        0x320000
#define RBUF        0x340000
#define QSIZE       16
#define DATA_BYTES  0xc000              /* 96 sectors */
#define FIRST       16                  /* their first sector */

    .section .text
    .code64
setup:
    .org    0x1f1
    .byte   1                           /* setup_sects: the protected-mode kernel starts at 0x400 */
    .word   0
    .long   (kernel_end - kernel) / 16  /* syssize */
    .word   0, 0, 0
    .word   0xaa55
    .byte   0xeb, 0x6a                  /* jump over the header */
    .ascii  "HdrS"
    .word   0x020f                      /* protocol 2.15 */
    .long   0
    .word   0
    .word   version_string - setup - 0x200
    .byte   0                           /* type_of_loader */
    .byte   0x01                        /* loadflags: LOADED_HIGH */
    .word   0
    .long   0x100000                    /* code32_start */
    .long   0, 0, 0
    .word   0
    .byte   0, 0
    .long   0
    .long   0x7fffffff                  /* initrd_addr_max */
    .long   0x200000                    /* kernel_alignment */
    .byte   1                           /* relocatable */
    .byte   21
    .word   0x7f                        /* xloadflags: 64-bit entry */
    .long   0x7ff                       /* cmdline_size */
    .long   0
    .quad   0
    .long   0, 0
    .quad   0
    .quad   0x1000000                   /* pref_address */
    .long   0x100000                    /* init_size */
    .long   0, 0
version_string:
    .asciz  "virtio-blk-check"

    .org    0x400
kernel:
    .org    0x400 + 0x200
entry64:
    cli
    lea     started(%rip), %rsi
    call    print
    /* 00:01.0 must be a modern virtio-blk function. */
    mov     $0x80000800, %eax
    call    pci_read
    cmp     $0x10421af4, %eax
    lea     no_device(%rip), %rsi
    jne     fail
    /* BAR 4 (64-bit memory). */
    mov     $0x80000820, %eax
    call    pci_read
    and     $0xfffffff0, %eax
    mov     %eax, %ebx
    mov     $0x80000824, %eax
    call    pci_read
    shl     $32, %rax
    or      %rax, %rbx
    /* Memory decoding and bus mastering (the command register only: a 16-bit write). */
    mov     $0x80000804, %eax
    call    pci_read
    or      $0x6, %eax
    mov     %eax, %ecx
    mov     $0x80000804, %eax
    mov     $0xcf8, %dx
    outl    %eax, %dx
    mov     %ecx, %eax
    mov     $0xcfc, %dx
    outw    %ax, %dx

    /* Reset, ACKNOWLEDGE, DRIVER; VERSION_1 and FLUSH when offered; FEATURES_OK; queue 0; DRIVER_OK. */
    movb    $0, 0x14(%rbx)
    movb    $1, 0x14(%rbx)
    movb    $3, 0x14(%rbx)
    movl    $0, 0x00(%rbx)
    movl    0x04(%rbx), %r12d            /* feature bits 0..31 */
    movl    $1, 0x00(%rbx)
    movl    0x04(%rbx), %eax
    test    $1, %eax
    lea     no_version1(%rip), %rsi
    jz      fail
    movl    $0, 0x08(%rbx)
    mov     %r12d, %eax
    and     $0x200, %eax
    movl    %eax, 0x0c(%rbx)
    movl    $1, 0x08(%rbx)
    movl    $1, 0x0c(%rbx)
    movb    $0xb, 0x14(%rbx)
    movzbl  0x14(%rbx), %eax
    test    $8, %al
    lea     features_refused(%rip), %rsi
    jz      fail
    movw    $0, 0x16(%rbx)
    movw    $QSIZE, 0x18(%rbx)
    movl    $QUEUE, 0x20(%rbx)
    movl    $0, 0x24(%rbx)
    movl    $AVAIL, 0x28(%rbx)
    movl    $0, 0x2c(%rbx)
    movl    $USED, 0x30(%rbx)
    movl    $0, 0x34(%rbx)
    movw    $1, 0x1c(%rbx)
    movb    $0xf, 0x14(%rbx)

    /* Capacity (device configuration offset 0, two dwords). */
    movl    0x2000(%rbx), %eax
    movl    0x2004(%rbx), %ecx
    shl     $32, %rcx
    or      %rcx, %rax
    mov     %rax, %r13
    lea     capacity_text(%rip), %rsi
    call    print
    mov     %r13, %rax
    call    print_decimal
    lea     writable_text(%rip), %rsi
    test    $0x20, %r12d                /* VIRTIO_BLK_F_RO */
    jz      1f
    lea     read_only_text(%rip), %rsi
1:  call    print

    /* What the disk holds at sector 0. */
    xor     %edi, %edi
    xor     %esi, %esi
    mov     $RBUF, %rdx
    mov     $512, %ecx
    mov     $2, %r8d
    call    request
    lea     sector0_text(%rip), %rsi
    call    print
    mov     $RBUF, %rsi
    mov     $64, %ecx
    mov     $COM1, %dx
2:  lodsb
    test    %al, %al
    jz      3f
    cmp     $10, %al
    je      3f
    outb    %al, %dx
    loop    2b
3:  lea     newline(%rip), %rsi
    call    print

    /* 96 sectors of the pattern at sector 16. */
    xor     %ecx, %ecx
    mov     $0x9e3779b97f4a7c15, %r8
4:  lea     1(%rcx), %rax
    imul    %r8, %rax
    mov     %rax, WBUF(,%rcx,8)
    inc     %rcx
    cmp     $(DATA_BYTES / 8), %rcx
    jb      4b
    mov     $1, %edi
    mov     $FIRST, %esi
    mov     $WBUF, %rdx
    mov     $DATA_BYTES, %ecx
    xor     %r8d, %r8d
    call    request
    lea     write_text(%rip), %rsi
    call    print_status

    mov     $4, %edi
    xor     %esi, %esi
    xor     %edx, %edx
    xor     %ecx, %ecx
    xor     %r8d, %r8d
    call    request
    lea     flush_text(%rip), %rsi
    call    print_status

    /* Read them back into a zeroed buffer and compare. */
    xor     %ecx, %ecx
5:  movq    $0, RBUF(,%rcx,8)
    inc     %rcx
    cmp     $(DATA_BYTES / 8), %rcx
    jb      5b
    xor     %edi, %edi
    mov     $FIRST, %esi
    mov     $RBUF, %rdx
    mov     $DATA_BYTES, %ecx
    mov     $2, %r8d
    call    request
    lea     read_text(%rip), %rsi
    call    print_status
    xor     %ecx, %ecx
6:  mov     WBUF(%rcx), %al
    cmp     RBUF(%rcx), %al
    jne     7f
    inc     %rcx
    cmp     $DATA_BYTES, %rcx
    jb      6b
    lea     match_text(%rip), %rsi
    call    print
    jmp     8f
7:  mov     %rcx, %r14
    lea     differs_text(%rip), %rsi
    call    print
    mov     %r14, %rax
    call    print_decimal
    lea     newline(%rip), %rsi
    call    print

    /* One sector past the end: the device must refuse it. */
8:  xor     %edi, %edi
    mov     %r13, %rsi
    mov     $RBUF, %rdx
    mov     $512, %ecx
    mov     $2, %r8d
    call    request
    lea     past_end_text(%rip), %rsi
    call    print_status
    lea     done_text(%rip), %rsi
    call    print
    jmp     power_off

/* rsi: what failed. */
fail:
    push    %rsi
    lea     error_text(%rip), %rsi
    call    print
    pop     %rsi
    call    print
power_off:
    mov     $PM1A_CNT, %dx
    mov     $(5 << 10 | 1 << 13), %ax
    outw    %ax, %dx
9:  hlt
    jmp     9b

/* One request: edi type, rsi sector, rdx data address, ecx data bytes (0: none), r8d data descriptor flags (2:
   the device writes it). Returns the status byte in al (0xff: the device did not complete it). */
request:
    movl    %edi, HEADER
    movl    $0, HEADER + 4
    movq    %rsi, HEADER + 8
    movb    $0xff, STATUS
    movq    $HEADER, QUEUE
    movl    $16, QUEUE + 8
    movw    $1, QUEUE + 12              /* NEXT */
    movw    $1, QUEUE + 14
    test    %ecx, %ecx
    jnz     1f
    movw    $2, QUEUE + 14              /* no data: the header goes straight to the status */
    jmp     2f
1:  movq    %rdx, QUEUE + 16
    movl    %ecx, QUEUE + 24
    mov     %r8d, %eax
    or      $1, %eax
    movw    %ax, QUEUE + 28
    movw    $2, QUEUE + 30
2:  movq    $STATUS, QUEUE + 32
    movl    $1, QUEUE + 40
    movw    $2, QUEUE + 44              /* WRITE */
    movw    $0, QUEUE + 46
    movzwl  AVAIL + 2, %eax
    mov     %eax, %ecx
    and     $(QSIZE - 1), %ecx
    movw    $0, AVAIL + 4(,%rcx,2)
    inc     %eax
    movw    %ax, AVAIL + 2
    movw    $0, 0x3000(%rbx)            /* notify queue 0 */
    movzwl  USED + 2, %ecx
    cmp     %ax, %cx
    movb    STATUS, %al
    je      3f
    mov     $0xff, %al
3:  ret

/* rsi: label; then the status in al, a newline. */
print_status:
    movzbl  %al, %eax
    push    %rax
    call    print
    pop     %rax
    call    print_decimal
    lea     newline(%rip), %rsi
    jmp     print

/* eax: CONFIG_ADDRESS; returns the dword in eax. */
pci_read:
    mov     $0xcf8, %dx
    outl    %eax, %dx
    mov     $0xcfc, %dx
    inl     %dx, %eax
    ret

/* rsi: NUL-terminated string. Clobbers rax, rdx, rsi. */
print:
    mov     $COM1, %dx
1:  lodsb
    test    %al, %al
    jz      2f
    outb    %al, %dx
    jmp     1b
2:  ret

/* rax: printed in decimal. Clobbers rax, rcx, rdx, rsi, rdi. */
print_decimal:
    sub     $32, %rsp
    lea     31(%rsp), %rdi
    movb    $0, (%rdi)
    mov     $10, %rcx
1:  xor     %edx, %edx
    div     %rcx
    add     $'0', %dl
    dec     %rdi
    mov     %dl, (%rdi)
    test    %rax, %rax
    jnz     1b
    mov     %rdi, %rsi
    call    print
    add     $32, %rsp
    ret

started:            .asciz "VMBLK: started\n"
no_device:          .asciz "no virtio-blk function (1af4:1042) at 00:01.0\n"
no_version1:        .asciz "the device does not offer VIRTIO_F_VERSION_1\n"
features_refused:   .asciz "the device refused FEATURES_OK\n"
error_text:         .asciz "VMBLK: error: "
capacity_text:      .asciz "VMBLK: capacity "
writable_text:      .asciz " sectors, writable\n"
read_only_text:     .asciz " sectors, read-only\n"
sector0_text:       .asciz "VMBLK: sector 0 says "
write_text:         .asciz "VMBLK: write 96 sectors at sector 16: status "
flush_text:         .asciz "VMBLK: flush: status "
read_text:          .asciz "VMBLK: read 96 sectors at sector 16: status "
match_text:         .asciz "VMBLK: read back: match\n"
differs_text:       .asciz "VMBLK: read back: differs at byte "
past_end_text:      .asciz "VMBLK: read past the end: status "
done_text:          .asciz "VMBLK: done\n"
newline:            .asciz "\n"
    .balign 16
kernel_end:
