/* Instructions user code needs on the bare-metal image. The trivial ones are static inline so that Swift (which
   imports them through the X86UserShims module) inlines them into the IPC path instead of calling out; what must
   stay out of line (the heap hooks) lives in user_shims.c. */
#ifndef HV_X86_USER_H
#define HV_X86_USER_H

#include <stdint.h>

struct x86_syscall_result {
    uint64_t rax, rdi, rsi;
};

/* `syscall` with the number in rax and arguments in rdi, rsi, rdx, r10, r8, r9 (Kernel/ABI/Hypercall.swift). */
static inline struct x86_syscall_result x86_user_syscall(uint64_t number, uint64_t a0, uint64_t a1, uint64_t a2,
                                                         uint64_t a3, uint64_t a4, uint64_t a5) {
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

static inline uint8_t x86_user_in8(uint16_t port) {
    uint8_t value;
    __asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}

static inline void x86_user_out8(uint16_t port, uint8_t value) {
    __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}

static inline uint16_t x86_user_in16(uint16_t port) {
    uint16_t value;
    __asm__ volatile("inw %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}

static inline void x86_user_out16(uint16_t port, uint16_t value) {
    __asm__ volatile("outw %0, %1" : : "a"(value), "Nd"(port));
}

static inline uint32_t x86_user_in32(uint16_t port) {
    uint32_t value;
    __asm__ volatile("inl %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}

static inline void x86_user_out32(uint16_t port, uint32_t value) {
    __asm__ volatile("outl %0, %1" : : "a"(value), "Nd"(port));
}

static inline uint64_t x86_user_rdtsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

/* Test support (xmm_hold.S): fills xmm0..15 with pattern + n, spins `ticks` TSC ticks; returns how many changed
   (low 32 bits) and how often the EC was off the CPU meanwhile (high 32 bits). */
uint64_t x86_user_xmm_hold(uint64_t pattern, uint64_t ticks);

/* Memory accesses the compiler must perform exactly as written (device registers, pages that may have been
   revoked, memory shared with other PDs): volatile, so they survive inlining even when the value is unused. */
static inline uint64_t x86_user_load64(uint64_t address) { return *(volatile uint64_t *)(uintptr_t)address; }
static inline void x86_user_store64(uint64_t address, uint64_t value) {
    *(volatile uint64_t *)(uintptr_t)address = value;
}
static inline uint8_t x86_user_load8(uint64_t address) { return *(volatile uint8_t *)(uintptr_t)address; }
static inline void x86_user_store8(uint64_t address, uint8_t value) {
    *(volatile uint8_t *)(uintptr_t)address = value;
}
static inline uint16_t x86_user_load16(uint64_t address) { return *(volatile uint16_t *)(uintptr_t)address; }
static inline void x86_user_store16(uint64_t address, uint16_t value) {
    *(volatile uint16_t *)(uintptr_t)address = value;
}
static inline uint32_t x86_user_load32(uint64_t address) { return *(volatile uint32_t *)(uintptr_t)address; }
static inline void x86_user_store32(uint64_t address, uint32_t value) {
    *(volatile uint32_t *)(uintptr_t)address = value;
}

#endif
