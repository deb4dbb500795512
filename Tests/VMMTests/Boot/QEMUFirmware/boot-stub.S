/*
 * A 64 KiB stand-in for firmware, for LinuxBootQEMUTests: QEMU (q35, -bios) runs it from the reset vector; it does
 * only what the VMM will do with a LinuxBootPlan, plus the q35 chipset setup firmware does, then jumps to Linux.
 *   - the MCH's PAM registers map 0xc0000-0xfffff to RAM, and the ACPI tables staged at STAGING are copied to
 *     0xe0000 (QEMU's loader cannot write there while that range still maps to ROM);
 *   - the ICH9 LPC's PMBASE is set to the FADT's PM1 block base, with ACPI decoding on (SCI on IRQ 9);
 *   - 64-bit mode through the plan's page tables (CR3) and GDT, CS = CODE_SEL, data selectors = DATA_SEL,
 *     rsi = RSI, rsp = RSP, jump to RIP.
 * The plan's values come as symbols: as --defsym CR3=... --defsym GDT_BASE=... (see the test).
 * Assembled at test time (as + ld --oformat binary), never committed as a binary.
 */
    .set ROM_BASE, 0xffff0000
    .text
    .code16
start:
    cli
    cld
    lgdtl %cs:stub_gdt_descriptor
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $0x08, $(ROM_BASE + protected)

    .code32
protected:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    /* MCH 00:00.0, PAM0-PAM6 (0x90-0x96) = 0x33: 0xc0000-0xfffff read/write RAM. */
    movl $0x90, %ebx
1:  movl %ebx, %eax
    andl $0xfc, %eax
    orl $0x80000000, %eax
    movw $0xcf8, %dx
    outl %eax, %dx
    movw $0xcfc, %dx
    movl %ebx, %eax
    andl $3, %eax
    addw %ax, %dx
    movb $0x33, %al
    outb %al, %dx
    incl %ebx
    cmpl $0x97, %ebx
    jne 1b
    /* ICH9 LPC 00:1f.0: PMBASE (0x40) = PM_BASE | 1 (I/O), ACPI_CNTL (0x44) = 0x80 (ACPI_EN, SCI on IRQ 9). */
    movw $0xcf8, %dx
    movl $0x8000f840, %eax
    outl %eax, %dx
    movw $0xcfc, %dx
    movl $(PM_BASE | 1), %eax
    outl %eax, %dx
    movw $0xcf8, %dx
    movl $0x8000f844, %eax
    outl %eax, %dx
    movw $0xcfc, %dx
    movb $0x80, %al
    outb %al, %dx
    /* The ACPI tables to 0xe0000 (128 KiB, up to 1 MiB). */
    movl $STAGING, %esi
    movl $0xe0000, %edi
    movl $(0x20000 / 4), %ecx
    rep movsl
    /* Long mode: PAE, the plan's page tables, EFER.LME, paging. */
    movl $CR3, %eax
    movl %eax, %cr3
    movl %cr4, %eax
    orl $0x20, %eax
    movl %eax, %cr4
    movl $0xc0000080, %ecx
    rdmsr
    orl $0x100, %eax
    wrmsr
    movl %cr0, %eax
    orl $0x80000000, %eax
    movl %eax, %cr0
    /* Now in compatibility mode: take the plan's GDT and its 64-bit code selector. */
    lgdtl (ROM_BASE + plan_gdt_descriptor)
    ljmpl $CODE_SEL, $(ROM_BASE + long_mode)

    .code64
long_mode:
    movw $DATA_SEL, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movabsq $RSP, %rsp
    movabsq $RSI, %rsi
    xorl %ebp, %ebp
    xorl %edi, %edi
    xorl %ebx, %ebx
    movabsq $RIP, %rax
    jmp *%rax

    .p2align 3
stub_gdt:
    .quad 0
    .quad 0x00cf9b000000ffff    /* 0x08: flat 32-bit code */
    .quad 0x00cf93000000ffff    /* 0x10: flat data */
stub_gdt_descriptor:
    .word 23
    .long ROM_BASE + stub_gdt
plan_gdt_descriptor:
    .word GDT_LIMIT
    .long GDT_BASE

    /* The reset vector: CS base 0xffff0000, IP 0xfff0. */
    .org 0xfff0
    .code16
    jmp start
    .org 0x10000
