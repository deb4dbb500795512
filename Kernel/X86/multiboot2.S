/* The kernel's second entry: GRUB's multiboot2 (the Bochs ISO, tools/build-iso). The EFI loader jumps to _start in
   64-bit mode; GRUB enters here instead, in 32-bit protected mode without paging, eax = the multiboot2 magic and
   ebx = the boot information (MBI). This stub identity-maps the first 4 GiB with 2 MiB pages (enough for the
   kernel at 64 MiB, GRUB's modules and the MBI), enters long mode, and lets multiboot2.c turn the MBI into the
   `struct hv_boot_info` the EFI loader would have passed; then it joins _start's path (kernel_main). The kernel
   replaces these tables and this GDT at once (x86_setup). */
    .intel_syntax noprefix

    .set MB2_MAGIC, 0xe85250d6
    .set MB2_ARCH_I386, 0
    .set MB2_BOOTLOADER_MAGIC, 0x36d76289

    /* The header: within the first 32 KiB of the file, 8-byte aligned (linker.ld puts it first in .text). */
    .section .multiboot2, "a"
    .balign 8
mb2_header:
    .long MB2_MAGIC
    .long MB2_ARCH_I386
    .long mb2_header_end - mb2_header
    .long -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
    /* Entry address tag (type 3): the ELF entry is _start (64-bit, for the EFI loader); GRUB must come here. */
    .balign 8
    .short 3, 0
    .long 12
    .long x86_multiboot2_entry
    /* Module alignment tag (type 6): modules page-aligned (the boot bundle's pages are mapped as they are). */
    .balign 8
    .short 6, 0
    .long 8
    /* End tag. */
    .balign 8
    .short 0, 0
    .long 8
mb2_header_end:

    .text
    .code32
    .global x86_multiboot2_entry
x86_multiboot2_entry:
    cli
    cld
    mov esp, offset boot_stack_top
    mov edi, ebx                        /* the MBI, kept for multiboot2.c */
    xor esi, esi
    cmp eax, MB2_BOOTLOADER_MAGIC
    jne 1f
    mov esi, 1                          /* the loader is a multiboot2 loader: the MBI can be read */
1:
    /* boot_pml4[0] -> boot_pdpt; boot_pdpt[0..3] -> boot_directories[0..3]; 2048 2 MiB leaves. */
    mov eax, offset boot_pdpt
    or eax, 3
    mov [boot_pml4], eax
    mov ecx, 0
2:
    mov eax, ecx
    shl eax, 12
    add eax, offset boot_directories
    or eax, 3
    mov [boot_pdpt + ecx * 8], eax
    inc ecx
    cmp ecx, 4
    jne 2b
    mov ecx, 0
3:
    mov eax, ecx
    shl eax, 21
    or eax, 0x83                        /* present, writable, 2 MiB */
    mov [boot_directories + ecx * 8], eax  /* (the high halves stay 0: everything is below 4 GiB) */
    inc ecx
    cmp ecx, 2048
    jne 3b

    mov eax, offset boot_pml4
    mov cr3, eax
    mov eax, cr4
    or eax, (1 << 5) | (1 << 9) | (1 << 10) /* PAE; OSFXSR, OSXMMEXCPT: SSE (compiled code uses it, as UEFI allows) */
    mov cr4, eax
    mov ecx, 0xc0000080                 /* EFER.LME */
    rdmsr
    or eax, 1 << 8
    wrmsr
    mov eax, cr0
    and eax, ~((1 << 2) | (1 << 3))     /* no EM, no TS: x87/SSE instructions run */
    or eax, (1 << 31) | (1 << 16) | (1 << 5) | (1 << 1) | 1 /* PG, WP, NE, MP, PE */
    mov cr0, eax
    lgdt [boot_gdt_pointer]
    .att_syntax
    ljmp $0x08, $long_mode
    .intel_syntax noprefix

    .code64
long_mode:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    lea rsp, [rip + kernel_stack_top]   /* entry.S's stack */
    xor ebp, ebp
    /* rdi = MBI, rsi = whether eax held the multiboot2 magic (zero-extended: the upper halves of the registers
       are undefined after the switch from 32-bit mode). */
    mov edi, edi
    mov esi, esi
    call x86_multiboot2_boot_info       /* multiboot2.c: the hv_boot_info in rax */
    mov rdi, rax
    call kernel_main                    /* Swift, never returns */
4:  cli
    hlt
    jmp 4b

    .section .rodata
    .balign 16
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff            /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff            /* 0x10: data */
boot_gdt_end:
boot_gdt_pointer:
    .short boot_gdt_end - boot_gdt - 1
    .quad boot_gdt

    .section .bss
    .balign 4096
boot_pml4:
    .skip 4096
boot_pdpt:
    .skip 4096
boot_directories:
    .skip 4 * 4096
boot_stack:
    .skip 1024
boot_stack_top:
