/* A CPU exception in kernel mode is a kernel bug (the kernel runs with interrupts off and never touches user
   memory through user addresses): print every register on COM1 and leave QEMU with X86_EXIT_FAULT. */
#include <stddef.h>
#include "x86.h"

/* What kernel_fault (traps.S) pushed, lowest address first, followed by the trap stub's and the CPU's words. */
struct x86_fault_frame {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t vector, error, rip, cs, rflags, rsp, ss;
};

static void put_string(const char *s) {
    while (*s) x86_serial_write((uint8_t)*s++);
}

static void put_hex(const char *name, uint64_t value) {
    put_string(name);
    put_string("=0x");
    for (int shift = 60; shift >= 0; shift -= 4) x86_serial_write("0123456789abcdef"[(value >> shift) & 0xf]);
    put_string(" ");
}

void x86_kernel_fault(const struct x86_fault_frame *f) {
    uint64_t cr2, cr3;
    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
    put_string("\nkernel: FATAL: CPU exception in kernel mode\n");
    put_hex("vector", f->vector); put_hex("error", f->error); put_hex("cr2", cr2); put_hex("cr3", cr3);
    put_string("\n");
    put_hex("rip", f->rip); put_hex("cs", f->cs); put_hex("rflags", f->rflags); put_hex("rsp", f->rsp);
    put_string("\n");
    put_hex("rax", f->rax); put_hex("rbx", f->rbx); put_hex("rcx", f->rcx); put_hex("rdx", f->rdx);
    put_string("\n");
    put_hex("rsi", f->rsi); put_hex("rdi", f->rdi); put_hex("rbp", f->rbp); put_hex("r8", f->r8);
    put_string("\n");
    put_hex("r9", f->r9); put_hex("r10", f->r10); put_hex("r11", f->r11); put_hex("r12", f->r12);
    put_string("\n");
    put_hex("r13", f->r13); put_hex("r14", f->r14); put_hex("r15", f->r15);
    put_string("\n");
    x86_exit_emulator(X86_EXIT_FAULT);
}

/* The kernel heap (heap.c) ran out or was handed a foreign pointer: a kernel sizing bug or memory corruption.
   Reported without allocating (the heap is what failed). */
void heap_exhausted(size_t size) {
    put_hex("\nkernel: FATAL: kernel heap exhausted; request bytes", size);
    put_string("\n");
    x86_exit_emulator(X86_EXIT_FAULT);
}

void heap_bad_free(void *block) {
    put_hex("\nkernel: FATAL: free of a pointer outside the kernel heap", (uint64_t)(uintptr_t)block);
    put_string("\n");
    x86_exit_emulator(X86_EXIT_FAULT);
}
