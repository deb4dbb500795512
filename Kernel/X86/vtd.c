/* Intel VT-d DMA remapping at the register level (VT-d spec chapters 9-11), for one remapping unit: the root table
   (one entry per bus) and context tables (one entry per device/function) live on the kernel heap; a context entry
   points at a PD's DMA table (second-level, 4 levels, 48-bit: Kernel/Core/VTdEntry.swift) tagged with a domain
   ID. Invalidation is register-based (context command, IOTLB registers), waited for before returning. Faults are
   reported through the fault event interrupt and read from the fault recording registers. Interrupt remapping is
   not enabled (compatibility-format MSIs pass). */
#include "x86.h"

#define VTD_CAP 0x08
#define VTD_ECAP 0x10
#define VTD_GCMD 0x18
#define VTD_GSTS 0x1c
#define VTD_RTADDR 0x20
#define VTD_CCMD 0x28
#define VTD_FSTS 0x34
#define VTD_FECTL 0x38
#define VTD_FEDATA 0x3c
#define VTD_FEADDR 0x40
#define VTD_FEUADDR 0x44

#define GCMD_TE (1u << 31)
#define GCMD_SRTP (1u << 30)
/* GSTS bits that are states to keep when writing GCMD (not one-shot commands). */
#define GSTS_PERSISTENT 0x96ffffffu

int posix_memalign(void **result, size_t alignment, size_t size);
void *memset(void *destination, int value, size_t count);

static volatile uint8_t *regs;
static uint64_t *root_table;
static uint64_t *context_tables[256];
static uint32_t iotlb_offset, fault_offset, fault_count;

static uint32_t r32(uint32_t o) { return *(volatile uint32_t *)(regs + o); }
static uint64_t r64(uint32_t o) { return *(volatile uint64_t *)(regs + o); }
static void w32(uint32_t o, uint32_t v) { *(volatile uint32_t *)(regs + o) = v; }
static void w64(uint32_t o, uint64_t v) { *(volatile uint64_t *)(regs + o) = v; }

static uint64_t *zeroed_page(void) {
    void *page = 0;
    posix_memalign(&page, 4096, 4096);
    memset(page, 0, 4096);
    return page;
}

/* Hardware that never completes a command must not hang the kernel: polls give up after this many reads. */
#define VTD_POLLS 100000000u

static int command(uint32_t bit) {
    w32(VTD_GCMD, (r32(VTD_GSTS) & GSTS_PERSISTENT) | bit);
    for (uint32_t i = 0; i < VTD_POLLS; i++) if (r32(VTD_GSTS) & bit) return 1;
    return 0;
}

static int invalidate_context_cache(void) {
    w64(VTD_CCMD, 1ull << 63 | 1ull << 61); /* ICC, global */
    for (uint32_t i = 0; i < VTD_POLLS; i++) if ((r64(VTD_CCMD) >> 63) == 0) return 1;
    return 0;
}

static int invalidate_iotlb(uint64_t granularity_and_domain) {
    w64(iotlb_offset + 8, 1ull << 63 | 1ull << 49 | 1ull << 48 | granularity_and_domain); /* IVT, drain R/W */
    for (uint32_t i = 0; i < VTD_POLLS; i++) if ((r64(iotlb_offset + 8) >> 63) == 0) return 1;
    return 0;
}

int x86_vtd_enable(uint64_t base, uint32_t fault_vector, uint32_t apic_id, uint32_t *domains) {
    regs = (volatile uint8_t *)(uintptr_t)base;
    uint64_t cap = r64(VTD_CAP), ecap = r64(VTD_ECAP);
    if (((cap >> 8) & 0x1f & 4) == 0) return X86_VTD_NO_4_LEVEL; /* SAGAW: 48-bit, 4-level tables */
    fault_offset = (uint32_t)((cap >> 24) & 0x3ff) * 16;
    fault_count = (uint32_t)((cap >> 40) & 0xff) + 1;
    iotlb_offset = (uint32_t)((ecap >> 8) & 0x3ff) * 16;
    *domains = 1u << (4 + 2 * (uint32_t)(cap & 7)); /* ND */
    if (r32(VTD_GSTS) & GCMD_TE) return X86_VTD_ALREADY_ON;
    root_table = zeroed_page();
    w64(VTD_RTADDR, (uint64_t)(uintptr_t)root_table);
    if (!command(GCMD_SRTP) || !invalidate_context_cache() || !invalidate_iotlb(1ull << 60)) return X86_VTD_TIMEOUT;
    w32(VTD_FEDATA, fault_vector);
    w32(VTD_FEADDR, 0xfee00000u | apic_id << 12);
    w32(VTD_FEUADDR, 0);
    w32(VTD_FECTL, 0); /* fault events unmasked */
    return command(GCMD_TE) ? X86_VTD_ON : X86_VTD_TIMEOUT;
}

int x86_vtd_bind(uint32_t requester, uint64_t table, uint32_t domain) {
    uint32_t bus = (requester >> 8) & 0xff, devfn = requester & 0xff;
    if (!context_tables[bus]) {
        context_tables[bus] = zeroed_page();
        root_table[2 * bus + 1] = 0;
        root_table[2 * bus] = (uint64_t)(uintptr_t)context_tables[bus] | 1;
    }
    uint64_t *entry = context_tables[bus] + 2 * devfn;
    entry[0] = 0;
    if (table) {
        entry[1] = 2 | (uint64_t)domain << 8; /* AW: 48-bit, 4-level */
        entry[0] = table | 1;                 /* present, translation type 0: untranslated requests only */
    } else {
        entry[1] = 0;
    }
    return invalidate_context_cache() && invalidate_iotlb(1ull << 60);
}

int x86_vtd_flush(uint32_t domain) {
    return invalidate_iotlb(2ull << 60 | (uint64_t)domain << 32); /* domain-selective */
}

int x86_vtd_take_fault(uint32_t *requester, uint64_t *address, uint32_t *reason, int *write) {
    for (uint32_t i = 0; i < fault_count; i++) {
        uint32_t o = fault_offset + 16 * i;
        uint64_t high = r64(o + 8);
        if ((high >> 63) == 0) continue;
        *address = r64(o) & ~0xfffull;
        *requester = (uint32_t)(high & 0xffff);
        *reason = (uint32_t)((high >> 32) & 0xff);
        *write = ((high >> 62) & 1) == 0;
        w32(o + 12, 1u << 31); /* F: write 1 to clear */
        return 1;
    }
    w32(VTD_FSTS, 1); /* primary fault overflow, if any */
    return 0;
}
