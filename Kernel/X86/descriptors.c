/* GDT, TSS and IDT. Selectors: 0x08 kernel code, 0x10 kernel data, 0x18 user data, 0x20 user code (this order is
   what syscall/sysret's STAR layout needs), 0x28 the TSS. The TSS carries RSP0 (the trap stack for exits from ring
   3), IST1 (NMI, double fault, machine check) and the I/O permission bitmap of the PD that runs. */
#include "x86.h"
#include "cpu.h"
#include "vmx.h"

struct __attribute__((packed)) tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t io_bitmap_offset;
    uint8_t io_bitmap[8192];
    uint8_t io_bitmap_end; /* the CPU reads one byte past the bitmap; must be all ones */
};

struct __attribute__((packed)) table_pointer {
    uint16_t limit;
    uint64_t base;
};

struct idt_gate {
    uint64_t low, high;
};

static uint64_t gdt[7];
static struct tss tss __attribute__((aligned(4096)));
static struct idt_gate idt[256] __attribute__((aligned(16)));
static uint8_t trap_stack[16384] __attribute__((aligned(16)));
static uint8_t emergency_stack[8192] __attribute__((aligned(16)));
extern const uint64_t x86_trap_stubs[256];

static uint64_t segment(uint64_t access, uint64_t flags) { return access << 40 | flags << 52 | 0xffff | 0xfull << 48; }

void x86_setup_descriptors(void) {
    gdt[0] = 0;
    gdt[1] = segment(0x9a, 0xa); /* kernel code: present, DPL 0, code, long mode */
    gdt[2] = segment(0x92, 0xc); /* kernel data */
    gdt[3] = segment(0xf2, 0xc); /* user data, DPL 3 */
    gdt[4] = segment(0xfa, 0xa); /* user code, DPL 3, long mode */
    uint64_t base = (uint64_t)(uintptr_t)&tss;
    uint64_t limit = sizeof(tss) - 1;
    gdt[5] = (limit & 0xffff) | (base & 0xffffff) << 16 | 0x89ull << 40 | ((limit >> 16) & 0xf) << 48 |
             ((base >> 24) & 0xff) << 56;
    gdt[6] = base >> 32;

    tss.rsp[0] = (uint64_t)(uintptr_t)(trap_stack + sizeof(trap_stack));
    tss.ist[0] = (uint64_t)(uintptr_t)(emergency_stack + sizeof(emergency_stack));
    tss.io_bitmap_offset = __builtin_offsetof(struct tss, io_bitmap);
    x86_set_io_permissions(0);
    tss.io_bitmap_end = 0xff;

    for (int v = 0; v < 256; v++) {
        uint64_t handler = x86_trap_stubs[v];
        uint64_t ist = (v == 2 || v == 8 || v == 18) ? 1 : 0;
        /* Interrupt gate, present, DPL 0: user code cannot raise any vector with `int`. */
        idt[v].low = (handler & 0xffff) | 0x08ull << 16 | ist << 32 | 0x8eull << 40 | ((handler >> 16) & 0xffff) << 48;
        idt[v].high = handler >> 32;
    }

    struct table_pointer gdtr = {sizeof(gdt) - 1, (uint64_t)(uintptr_t)gdt};
    struct table_pointer idtr = {sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};
    __asm__ volatile(
        "lgdt %0\n\t"
        "lidt %1\n\t"
        "pushq $0x08\n\t"
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "movw $0x10, %%ax\n\t"
        "movw %%ax, %%ds\n\t"
        "movw %%ax, %%es\n\t"
        "movw %%ax, %%ss\n\t"
        "xorw %%ax, %%ax\n\t"
        "movw %%ax, %%fs\n\t"
        "movw %%ax, %%gs\n\t"
        "movw $0x28, %%ax\n\t"
        "ltr %%ax"
        :
        : "m"(gdtr), "m"(idtr)
        : "rax", "memory");
}

void x86_set_io_permissions(const uint64_t *allowed_words) {
    uint64_t *bitmap = (uint64_t *)tss.io_bitmap;
    for (int i = 0; i < 1024; i++) bitmap[i] = allowed_words ? ~allowed_words[i] : ~0ull;
}

/* The TSS again after a VM exit (which leaves TR with limit 0x67, cutting off the I/O bitmap): LTR needs an
   available descriptor, so the busy bit the last LTR set is cleared first. */
void x86_reload_task_register(void) {
    gdt[5] &= ~(1ull << 41);
    __asm__ volatile("ltr %w0" : : "r"(0x28) : "memory");
}
