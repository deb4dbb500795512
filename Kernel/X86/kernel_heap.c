/* The kernel's Swift heap (heap.c) lives in RAM taken off the loader's free list before any Swift code allocates:
   kernel objects (capabilities, PDs, ECs) are Swift class instances. Memory and I/O capabilities are ranges, so
   their number no longer grows with RAM (the root holds a handful at boot): the arena is a fixed 32 MiB (a quarter
   of free memory on machines smaller than 128 MiB), taken from the top of the largest free region. */
#include "x86.h"
#include "cpu.h"

#define MIB (1ull << 20)

int x86_setup_heap(struct hv_boot_info *info) {
    uint64_t total = 0;
    for (uint64_t i = 0; i < info->region_count; i++) total += info->regions[i].size;
    uint64_t bytes = total / 4;
    if (bytes > 32 * MIB) bytes = 32 * MIB;
    bytes &= ~0xfffull;
    uint64_t best = info->region_count;
    for (uint64_t i = 0; i < info->region_count; i++) {
        if (info->regions[i].size < bytes + 0x1000) continue;
        if (best == info->region_count || info->regions[i].size > info->regions[best].size) best = i;
    }
    if (best == info->region_count) return 0;
    struct hv_memory_region *region = &info->regions[best];
    uint64_t end = (region->base + region->size) & ~0xfffull;
    uint64_t base = end - bytes;
    region->size = base - region->base;
    heap_init((void *)(uintptr_t)base, bytes);
    return 1;
}
