/* The kernel's page tables: PML4 slot 0 maps physical memory 1:1 with 2 MiB pages, supervisor only. Every PD's
   PML4 gets the same slot 0 (X86Platform.activateAddressSpace), so the kernel runs unchanged in any address space. */
#include "x86.h"
#include "cpu.h"

#define PRESENT 0x1ull
#define WRITABLE 0x2ull
#define WRITE_THROUGH 0x8ull
#define CACHE_DISABLE 0x10ull
#define LARGE 0x80ull
#define GIB (1ull << 30)
/* Enough 2 MiB tables to map 64 GiB; machines with more RAM get the first 64 GiB. */
#define MAX_GIB 64

uint64_t x86_kernel_pml4_table[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t directories[MAX_GIB][512] __attribute__((aligned(4096)));
/* The 2 MiB around the kernel stack's guard page, mapped with 4 KiB pages so the guard can stay unmapped. */
static uint64_t guard_table[512] __attribute__((aligned(4096)));
extern uint8_t x86_kernel_stack_guard[4096];

static void unmap_stack_guard(void) {
    uint64_t guard = (uint64_t)(uintptr_t)x86_kernel_stack_guard;
    uint64_t large = guard & ~((2ull << 20) - 1);
    for (uint64_t i = 0; i < 512; i++) {
        uint64_t page = large + i * 4096;
        guard_table[i] = page == guard ? 0 : page | PRESENT | WRITABLE;
    }
    directories[large / GIB][(large % GIB) >> 21] = (uint64_t)(uintptr_t)guard_table | PRESENT | WRITABLE;
}

void x86_setup_paging(const struct hv_boot_info *info) {
    uint64_t top = 4 * GIB; /* always cover the MMIO below 4 GiB (LAPIC, IOAPIC) */
    for (uint64_t i = 0; i < info->region_count; i++) {
        uint64_t end = info->regions[i].base + info->regions[i].size;
        if (end > top) top = end;
    }
    uint64_t gigabytes = (top + GIB - 1) / GIB;
    if (gigabytes > MAX_GIB) gigabytes = MAX_GIB;
    for (uint64_t g = 0; g < gigabytes; g++) {
        /* The last GiB below 4 GiB holds device registers: uncached. */
        uint64_t cache = g == 3 ? CACHE_DISABLE | WRITE_THROUGH : 0;
        for (uint64_t m = 0; m < 512; m++)
            directories[g][m] = (g * GIB + m * (2ull << 20)) | PRESENT | WRITABLE | LARGE | cache;
        pdpt[g] = (uint64_t)(uintptr_t)directories[g] | PRESENT | WRITABLE;
    }
    unmap_stack_guard();
    x86_kernel_pml4_table[0] = (uint64_t)(uintptr_t)pdpt | PRESENT | WRITABLE;
    x86_write_cr3((uint64_t)(uintptr_t)x86_kernel_pml4_table);
}

void x86_invalidate_page(uint64_t address) { __asm__ volatile("invlpg (%0)" : : "r"(address) : "memory"); }
