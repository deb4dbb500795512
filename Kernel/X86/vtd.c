/* Intel VT-d DMA and interrupt remapping at the register level (VT-d spec chapters 5, 6, 9-11), for one remapping
   unit: the root table (one entry per bus) and context tables (one entry per device/function) live on the kernel
   heap; a context entry points at a PD's DMA table (second-level, 4 levels, 48-bit: Kernel/Core/VTdEntry.swift)
   tagged with a domain ID. The interrupt remapping table (one page, 256 entries: Kernel/Core/InterruptRemapEntry.swift,
   written by X86Platform) is on the heap too; compatibility-format interrupts stay blocked (CFI is never set).
   Invalidation goes through the invalidation queue when the unit has one (interrupt entry cache invalidation
   exists only there, and register-based invalidation must not be used once the queue is on), else through the
   context command and IOTLB registers; either way it is waited for before returning. Faults (DMA and interrupt)
   are reported through the fault event interrupt and read from the fault recording registers. */
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
#define VTD_IQT 0x88
#define VTD_IQA 0x90
#define VTD_IRTA 0xb8

#define GCMD_TE (1u << 31)
#define GCMD_SRTP (1u << 30)
#define GCMD_QIE (1u << 26)
#define GCMD_IRE (1u << 25)
#define GCMD_SIRTP (1u << 24)
#define ECAP_QI (1ull << 1)
#define ECAP_IR (1ull << 3)
#define FSTS_IQE (1u << 4)
/* The remapping table: 2^(IRTA_SIZE + 1) = 256 entries of 16 bytes, one page. */
#define IRTA_SIZE 7
#define IRT_ENTRIES 256
/* GSTS bits that are states to keep when writing GCMD (not one-shot commands). */
#define GSTS_PERSISTENT 0x96ffffffu

int posix_memalign(void **result, size_t alignment, size_t size);
void *memset(void *destination, int value, size_t count);

static volatile uint8_t *regs;
static uint64_t *root_table;
static uint64_t *context_tables[256];
static uint32_t iotlb_offset, fault_offset, fault_count;
static uint64_t ecap;
/* The invalidation queue (one page: 256 descriptors of 16 bytes), its tail (in descriptors), the word an
   invalidation wait descriptor writes, and the value the next wait writes into it. */
static uint64_t *queue;
static uint32_t queue_tail;
static volatile uint32_t wait_status;
static uint32_t wait_sequence;
static uint64_t *remapping_table;

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

/* Queues one invalidation descriptor (low, high) and an invalidation wait descriptor after it, then waits until
   the unit has written the wait's status (it processes descriptors in order, so the invalidation is done). */
static int queued(uint64_t low, uint64_t high) {
    queue[2 * queue_tail] = low;
    queue[2 * queue_tail + 1] = high;
    queue_tail = (queue_tail + 1) % 256;
    uint32_t sequence = ++wait_sequence;
    queue[2 * queue_tail] = 5 | 1u << 5 | (uint64_t)sequence << 32; /* invalidation wait, status write */
    queue[2 * queue_tail + 1] = (uint64_t)(uintptr_t)&wait_status;
    queue_tail = (queue_tail + 1) % 256;
    __asm__ volatile("" ::: "memory");
    w64(VTD_IQT, (uint64_t)queue_tail << 4);
    for (uint32_t i = 0; i < VTD_POLLS; i++) {
        if (wait_status == sequence) return 1;
        if (r32(VTD_FSTS) & FSTS_IQE) return 0; /* the unit refused a descriptor */
    }
    return 0;
}

static int invalidate_context_cache(void) {
    if (queue) return queued(1 | 1u << 4, 0); /* context-cache invalidate, global */
    w64(VTD_CCMD, 1ull << 63 | 1ull << 61); /* ICC, global */
    for (uint32_t i = 0; i < VTD_POLLS; i++) if ((r64(VTD_CCMD) >> 63) == 0) return 1;
    return 0;
}

/* `domain` 0: global, else that domain only. */
static int invalidate_iotlb(uint32_t domain) {
    if (queue) {
        uint64_t granularity = domain ? 2u << 4 | (uint64_t)domain << 16 : 1u << 4;
        return queued(2 | 1u << 7 | 1u << 6 | granularity, 0); /* IOTLB invalidate, drain reads and writes */
    }
    uint64_t granularity = domain ? 2ull << 60 | (uint64_t)domain << 32 : 1ull << 60;
    w64(iotlb_offset + 8, 1ull << 63 | 1ull << 49 | 1ull << 48 | granularity); /* IVT, drain R/W */
    for (uint32_t i = 0; i < VTD_POLLS; i++) if ((r64(iotlb_offset + 8) >> 63) == 0) return 1;
    return 0;
}

int x86_vtd_enable(uint64_t base, uint32_t fault_vector, uint32_t apic_id, uint32_t *domains) {
    regs = (volatile uint8_t *)(uintptr_t)base;
    uint64_t cap = r64(VTD_CAP);
    ecap = r64(VTD_ECAP);
    if (((cap >> 8) & 0x1f & 4) == 0) return X86_VTD_NO_4_LEVEL; /* SAGAW: 48-bit, 4-level tables */
    fault_offset = (uint32_t)((cap >> 24) & 0x3ff) * 16;
    fault_count = (uint32_t)((cap >> 40) & 0xff) + 1;
    iotlb_offset = (uint32_t)((ecap >> 8) & 0x3ff) * 16;
    *domains = 1u << (4 + 2 * (uint32_t)(cap & 7)); /* ND */
    if (r32(VTD_GSTS) & (GCMD_TE | GCMD_QIE | GCMD_IRE)) return X86_VTD_ALREADY_ON;
    if (ecap & ECAP_QI) {
        uint64_t *page = zeroed_page();
        w64(VTD_IQT, 0);
        w64(VTD_IQA, (uint64_t)(uintptr_t)page); /* 128-bit descriptors, one page */
        if (!command(GCMD_QIE)) return X86_VTD_TIMEOUT;
        queue = page;
    }
    root_table = zeroed_page();
    w64(VTD_RTADDR, (uint64_t)(uintptr_t)root_table);
    if (!command(GCMD_SRTP) || !invalidate_context_cache() || !invalidate_iotlb(0)) return X86_VTD_TIMEOUT;
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
    return invalidate_context_cache() && invalidate_iotlb(0);
}

int x86_vtd_flush(uint32_t domain) {
    return invalidate_iotlb(domain);
}

int x86_vtd_enable_interrupt_remapping(void) {
    if (!regs || !(ecap & ECAP_IR)) return X86_VTD_NO_INTERRUPT_REMAPPING;
    if (!queue) return X86_VTD_NO_QUEUE;
    remapping_table = zeroed_page(); /* every entry not present */
    w64(VTD_IRTA, (uint64_t)(uintptr_t)remapping_table | IRTA_SIZE); /* xAPIC mode (EIME 0) */
    if (!command(GCMD_SIRTP) || !queued(4, 0) /* interrupt entry cache, global */) return X86_VTD_TIMEOUT;
    return command(GCMD_IRE) ? X86_VTD_ON : X86_VTD_TIMEOUT;
}

int x86_vtd_set_remapping_entry(uint32_t handle, uint64_t low, uint64_t high) {
    if (!remapping_table || handle >= IRT_ENTRIES) return 0;
    volatile uint64_t *entry = remapping_table + 2 * handle;
    /* The present bit is in the low word: a new entry becomes present last, an old one stops being present first. */
    if (low & 1) {
        entry[0] = 0;
        entry[1] = high;
        entry[0] = low;
    } else {
        entry[0] = low;
        entry[1] = high;
    }
    return queued(4 | 1u << 4 | (uint64_t)handle << 32, 0); /* interrupt entry cache, this index */
}

void x86_vtd_remapping_entry(uint32_t handle, uint64_t *low, uint64_t *high) {
    *low = remapping_table && handle < IRT_ENTRIES ? remapping_table[2 * handle] : 0;
    *high = remapping_table && handle < IRT_ENTRIES ? remapping_table[2 * handle + 1] : 0;
}

int x86_vtd_take_fault(uint64_t *low, uint64_t *high) {
    for (uint32_t i = 0; i < fault_count; i++) {
        uint32_t o = fault_offset + 16 * i;
        uint64_t h = r64(o + 8);
        if ((h >> 63) == 0) continue;
        *low = r64(o);
        *high = h;
        w32(o + 12, 1u << 31); /* F: write 1 to clear */
        return 1;
    }
    w32(VTD_FSTS, 1); /* primary fault overflow, if any */
    return 0;
}
