/* guest-multiboot: a Multiboot v1 image (header with load addresses, flags bit 16), entered by the VMM in 32-bit
   protected mode with eax = 0x2BADB002 and ebx = the information block; it checks the block (memory sizes, the
   command line "guest-multiboot multiboot-cmdline=ok" as the manifest's kernel name and cmdline, the initrd
   guest-test as module 0, page-aligned, named, starting with the ELF magic, and the memory map), then switches to long
   mode itself (PAE page tables, EFER.LME through WRMSR, which the VMM emulates, CR0.PG, a far jump) and reports
   from 64-bit code. Standalone (guest.inc is for 64-bit entries). */
    .code32
    .section .text
    .globl _start
_start:
    jmp     main32
    .balign 4
mb_header:
    .long   0x1badb002
    .long   0x00010000
    .long   -(0x1badb002 + 0x00010000)
    .long   mb_header               /* header_addr */
    .long   0x100000                /* load_addr: the ELF file's first byte, which guest.ld puts at 1 MiB */
    .long   0                       /* load_end_addr: the whole file */
    .long   0                       /* bss_end_addr: none */
    .long   _start                  /* entry_addr */

#define PML4 0x70000
main32:
    mov     $0x80000, %esp
    xor     %edi, %edi              /* failures */
    cmp     $0x2badb002, %eax
    mov     $t_magic, %esi
    call    check32
    mov     (%ebx), %eax            /* flags: memory sizes (0), command line (2), modules (3), map (6) */
    and     $0x4d, %eax
    cmp     $0x4d, %eax
    mov     $t_flags, %esi
    call    check32
    cmpl    $3072, 8(%ebx)          /* mem_upper: 4 MiB of RAM less the first MiB, in KiB */
    mov     $t_upper, %esi
    call    check32
    mov     16(%ebx), %edx          /* cmdline */
    mov     $s_cmdline, %esi
    call    streq32
    mov     $t_cmdline, %esi
    call    check32
    cmpl    $1, 20(%ebx)            /* mods_count */
    mov     $t_count, %esi
    call    check32
    mov     24(%ebx), %ecx          /* mods_addr: mod_start, mod_end, string */
    mov     (%ecx), %eax
    test    $0xfff, %eax
    mov     $t_aligned, %esi
    call    check32
    mov     (%ecx), %eax
    cmpl    $0x464c457f, (%eax)     /* the initrd is guest-test, an ELF file */
    mov     $t_bytes, %esi
    call    check32
    mov     4(%ecx), %eax
    cmp     (%ecx), %eax
    seta    %al                     /* mod_end above mod_start */
    cmp     $1, %al
    mov     $t_end, %esi
    call    check32
    mov     8(%ecx), %edx
    mov     $s_module, %esi
    call    streq32
    mov     $t_string, %esi
    call    check32
    cmpl    $48, 44(%ebx)           /* mmap_length: two entries of 24 bytes */
    mov     $t_mmap, %esi
    call    check32
    mov     48(%ebx), %ecx          /* mmap_addr: the second entry is RAM from 1 MiB */
    cmpl    $0x100000, 24 + 4(%ecx)
    jne     1f
    cmpl    $1, 24 + 20(%ecx)
1:  mov     $t_mmap_entry, %esi
    call    check32
    /* Long mode: identity-map 8 MiB with 2 MiB pages. */
    movl    $(PML4 + 0x1000 + 3), PML4
    movl    $0, PML4 + 4
    movl    $(PML4 + 0x2000 + 3), PML4 + 0x1000
    movl    $0, PML4 + 0x1004
    mov     $0, %ecx
1:  mov     %ecx, %eax
    shl     $21, %eax
    or      $0x83, %eax
    mov     %eax, PML4 + 0x2000(,%ecx,8)
    movl    $0, PML4 + 0x2004(,%ecx,8)
    inc     %ecx
    cmp     $4, %ecx
    jne     1b
    mov     $PML4, %eax
    mov     %eax, %cr3
    mov     %cr4, %eax
    or      $0x20, %eax             /* PAE */
    mov     %eax, %cr4
    mov     $0xc0000080, %ecx
    rdmsr
    or      $0x100, %eax            /* LME */
    wrmsr
    mov     %cr0, %eax
    or      $0x80000000, %eax       /* PG: long mode becomes active */
    mov     %eax, %cr0
    lgdt    gdt64_descriptor
    ljmp    $0x08, $long64

/* ZF set when the NUL-terminated strings at esi and edx are equal. */
streq32:
    push    %esi
    push    %edx
1:  mov     (%esi), %al
    cmp     (%edx), %al
    jne     2f
    inc     %esi
    inc     %edx
    test    %al, %al
    jnz     1b
2:  pop     %edx
    pop     %esi
    ret

/* ZF set: PASS, else FAIL (edi += 1); then the name at esi. */
check32:
    push    %esi
    mov     $t_pass, %esi
    jz      1f
    inc     %edi
    mov     $t_fail, %esi
1:  call    print32
    pop     %esi
print32:
    mov     $0x3f8, %dx
1:  lodsb
    test    %al, %al
    jz      2f
    outb    %al, %dx
    jmp     1b
2:  ret

    .code64
long64:
    mov     $0x10, %ax
    mov     %ax, %ds
    mov     %ax, %ss
    mov     $0x80000, %rsp
    lea     t_long(%rip), %rsi
    mov     $0x3f8, %dx
1:  lodsb
    test    %al, %al
    jz      2f
    outb    %al, %dx
    jmp     1b
2:  mov     $0xf4, %dx
    mov     $0x10, %eax
    test    %edi, %edi
    jz      3f
    mov     $0x11, %eax
3:  outl    %eax, %dx
4:  hlt
    jmp     4b

t_pass:  .asciz "PASS "
t_fail:  .asciz "FAIL "
t_magic: .asciz "multiboot-magic\n"
t_flags: .asciz "multiboot-info-flags\n"
t_upper: .asciz "multiboot-mem-upper\n"
t_cmdline: .asciz "multiboot-cmdline\n"
t_count: .asciz "multiboot-module-count\n"
t_aligned: .asciz "multiboot-module-page-aligned\n"
t_bytes: .asciz "multiboot-module-bytes\n"
t_end:   .asciz "multiboot-module-end\n"
t_string: .asciz "multiboot-module-string\n"
t_mmap:  .asciz "multiboot-mmap-length\n"
t_mmap_entry: .asciz "multiboot-mmap-entry\n"
s_cmdline: .asciz "guest-multiboot multiboot-cmdline=ok"
s_module: .asciz "guest-test"
t_long:  .asciz "PASS multiboot-long-mode-switch\n"
    .balign 8
gdt64:
    .quad   0
    .quad   0x00af9b000000ffff      /* 0x08: 64-bit code */
    .quad   0x00cf93000000ffff      /* 0x10: data */
gdt64_descriptor:
    .word   23
    .long   gdt64
