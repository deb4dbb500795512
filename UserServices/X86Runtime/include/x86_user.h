/* Instructions user code needs on the bare-metal image (user_shims.c). */
#ifndef HV_X86_USER_H
#define HV_X86_USER_H

#include <stdint.h>

struct x86_syscall_result {
    uint64_t rax, rdi, rsi;
};

/* `syscall` with the number in rax and arguments in rdi, rsi, rdx, r10, r8, r9 (Kernel/ABI/Hypercall.swift). */
struct x86_syscall_result x86_user_syscall(uint64_t number, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                                           uint64_t a4, uint64_t a5);
uint8_t x86_user_in8(uint16_t port);
void x86_user_out8(uint16_t port, uint8_t value);
uint64_t x86_user_rdtsc(void);
/* Test support (xmm_hold.S): fills xmm0..15 with pattern + n, spins `ticks` TSC ticks; returns how many changed
   (low 32 bits) and how often the EC was off the CPU meanwhile (high 32 bits). */
uint64_t x86_user_xmm_hold(uint64_t pattern, uint64_t ticks);
/* Memory accesses the compiler must perform exactly as written (device registers, pages that may have been
   revoked, memory shared with other PDs). */
uint64_t x86_user_load64(uint64_t address);
void x86_user_store64(uint64_t address, uint64_t value);
uint8_t x86_user_load8(uint64_t address);
void x86_user_store8(uint64_t address, uint8_t value);

#endif
