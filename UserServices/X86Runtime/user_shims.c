/* The instructions behind X86UserPlatform, and what the freestanding heap needs from its binary. */
#include <stddef.h>
#include "x86_user.h"

struct x86_syscall_result x86_user_syscall(uint64_t number, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                                           uint64_t a4, uint64_t a5) {
    register uint64_t r10 __asm__("r10") = a3;
    register uint64_t r8 __asm__("r8") = a4;
    register uint64_t r9 __asm__("r9") = a5;
    uint64_t rax = number, rdi = a0, rsi = a1, rdx = a2;
    /* The kernel may change every register it does not return; rcx and r11 are clobbered by the instruction. */
    __asm__ volatile("syscall"
                     : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r10), "+r"(r8), "+r"(r9)
                     :
                     : "rcx", "r11", "memory");
    struct x86_syscall_result result = {rax, rdi, rsi};
    return result;
}

uint8_t x86_user_in8(uint16_t port) {
    uint8_t value;
    __asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}

void x86_user_out8(uint16_t port, uint8_t value) { __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port)); }

uint64_t x86_user_rdtsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

uint64_t x86_user_load64(uint64_t address) { return *(volatile uint64_t *)(uintptr_t)address; }
void x86_user_store64(uint64_t address, uint64_t value) { *(volatile uint64_t *)(uintptr_t)address = value; }
uint8_t x86_user_load8(uint64_t address) { return *(volatile uint8_t *)(uintptr_t)address; }
void x86_user_store8(uint64_t address, uint8_t value) { *(volatile uint8_t *)(uintptr_t)address = value; }

/* The heap (Kernel/X86/heap.c) ran out: stop this EC with an invalid-opcode exception its fault handler sees. */
void heap_exhausted(size_t size) {
    (void)size;
    for (;;) __asm__ volatile("ud2");
}

/* free() of a pointer the heap never handed out: stop with an invalid-opcode exception. */
void heap_bad_free(void *block) {
    (void)block;
    for (;;) __asm__ volatile("ud2");
}
