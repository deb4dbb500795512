// Enters in 32-bit protected mode without paging (as a Multiboot loader leaves it) and switches to long mode by
// itself: its own GDT, identity page tables (2 MiB pages), PAE, EFER.LME, CR0.PG, a far jump to 64-bit code.
    .globl start, long_entry, done
    .code32
start:
    lgdt gdt_pointer
    // PML4 at 0x20000 -> PDPT 0x21000 -> PD 0x22000: the first 4 MiB identity mapped.
    movl $0x21003, 0x20000
    movl $0, 0x20004
    movl $0x22003, 0x21000
    movl $0, 0x21004
    movl $0x83, 0x22000
    movl $0, 0x22004
    movl $0x200083, 0x22008
    movl $0, 0x2200c
    mov $0x20000, %eax
    mov %eax, %cr3
    mov %cr4, %eax
    or $0x20, %eax
    mov %eax, %cr4
    mov $0xc0000080, %ecx
    rdmsr
    or $0x100, %eax
    wrmsr
    mov %cr0, %eax
    or $0x80000000, %eax
    mov %eax, %cr0
    ljmp $0x08, $long_entry
    .code64
long_entry:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %ss
    movabs $0x1122334455667788, %rax
    lea 0x10(%rip), %rbx
done:
    cpuid
    hlt
    .balign 8
gdt:
    .quad 0
    .quad 0x00af9a000000ffff
    .quad 0x00cf92000000ffff
gdt_pointer:
    .word 23
    .long gdt
