/* The multiboot2 entry's hand-over (multiboot2.S): GRUB's boot information (MBI) becomes the `struct hv_boot_info`
   the EFI loader passes, so kernel_main is the same for both entries:
   - free memory: the MBI memory map's available RAM above 1 MiB, sorted and merged, without the kernel image and
     the boot bundle (the MBI itself is no longer needed once this returns: what the kernel keeps is copied here);
   - the boot bundle: the module whose command line is "bundle" (or the only one), page-aligned (header tag);
   - the ACPI RSDP: the MBI holds a copy (new RSDP tag 15, else old tag 14); it is copied into `rsdp_copy`, whose
     address is what the kernel's ACPI code reads, since the MBI's memory is free memory from now on.
   Anything missing or malformed leaves a field empty (bad magic, no bundle, no regions): kernel_main's checks then
   stop the boot with a line saying what is wrong. */
#include "x86.h"
#include "cpu.h"

enum {
    TAG_END = 0,
    TAG_MODULE = 3,
    TAG_MEMORY_MAP = 6,
    TAG_ACPI_OLD = 14,
    TAG_ACPI_NEW = 15,
    MEMORY_AVAILABLE = 1,
    MEMORY_RESERVED = 2,
};

#define FOUR_GIB (4ull << 30)

struct tag {
    uint32_t type, size;
};

struct module_tag {
    struct tag tag;
    uint32_t start, end;
    char command_line[];
};

struct memory_map_tag {
    struct tag tag;
    uint32_t entry_size, entry_version;
};

struct memory_map_entry {
    uint64_t base, length;
    uint32_t type, reserved;
};

extern uint8_t x86_kernel_image_start[], x86_kernel_image_end[];

static struct hv_boot_info boot_info;
/* An ACPI 2.0 RSDP is 36 bytes; room for any length a tag may carry. */
static uint8_t rsdp_copy[64] __attribute__((aligned(16)));

#define MIB (1ull << 20)
#define PAGE 4096ull

static uint64_t page_down(uint64_t a) { return a & ~(PAGE - 1); }
static uint64_t page_up(uint64_t a) { return (a + PAGE - 1) & ~(PAGE - 1); }

/* Adds [base, end) to the region list, kept sorted by base with touching or overlapping regions merged (a full
   list drops the region, as the EFI loader does). */
static void add_region(uint64_t base, uint64_t end) {
    struct hv_boot_info *info = &boot_info;
    if (end <= base || info->region_count == HV_BOOT_MAX_REGIONS) return;
    uint64_t i = info->region_count;
    while (i > 0 && info->regions[i - 1].base > base) {
        info->regions[i] = info->regions[i - 1];
        i--;
    }
    info->regions[i].base = base;
    info->regions[i].size = end - base;
    info->region_count++;
    uint64_t kept = 0;
    for (uint64_t j = 1; j < info->region_count; j++) {
        struct hv_memory_region *last = &info->regions[kept];
        uint64_t last_end = last->base + last->size, next_end = info->regions[j].base + info->regions[j].size;
        if (info->regions[j].base <= last_end) {
            if (next_end > last_end) last->size = next_end - last->base;
        } else {
            info->regions[++kept] = info->regions[j];
        }
    }
    info->region_count = kept + 1;
}

/* Adds the part of [base, end) outside [hole_base, hole_end) and outside [hole2_base, hole2_end). */
static void add_without(uint64_t base, uint64_t end, uint64_t hole_base, uint64_t hole_end, uint64_t hole2_base,
                        uint64_t hole2_end) {
    if (end <= base) return;
    if (hole_end > hole_base && hole_base < end && hole_end > base) {
        add_without(base, hole_base, hole2_base, hole2_end, 0, 0);
        add_without(hole_end, end, hole2_base, hole2_end, 0, 0);
        return;
    }
    if (hole2_end > hole2_base) {
        add_without(base, end, hole2_base, hole2_end, 0, 0);
        return;
    }
    add_region(base, end);
}

static int is_bundle(const struct module_tag *m) {
    const char *want = "bundle";
    uint32_t length = m->tag.size - sizeof(struct module_tag);
    for (uint32_t i = 0; i < 7; i++) {
        if (i >= length) return 0;
        if (m->command_line[i] != want[i]) return 0; /* includes the terminating NUL at i = 6 */
    }
    return 1;
}

struct hv_boot_info *x86_multiboot2_boot_info(uint64_t mbi_address, uint64_t from_multiboot2) {
    struct hv_boot_info *info = &boot_info;
    x86_serial_init(); /* the BIOS left COM1 unprogrammed (UEFI programs it): kernel_main prints at once */
    info->magic = 0; /* until the MBI proved readable */
    if (!from_multiboot2 || mbi_address == 0 || mbi_address & 7) return info;
    const uint8_t *mbi = (const uint8_t *)(uintptr_t)mbi_address;
    uint32_t total = *(const uint32_t *)mbi;
    if (total < 16 || total > 16 * MIB) return info;

    const struct memory_map_tag *memory_map = 0;
    const struct module_tag *bundle = 0;
    uint32_t modules = 0;
    const struct tag *acpi = 0;
    for (uint32_t at = 8; at + sizeof(struct tag) <= total;) {
        const struct tag *tag = (const struct tag *)(mbi + at);
        if (tag->type == TAG_END || tag->size < sizeof(struct tag) || tag->size > total - at) break;
        switch (tag->type) {
        case TAG_MEMORY_MAP:
            if (tag->size >= sizeof(struct memory_map_tag)) memory_map = (const struct memory_map_tag *)tag;
            break;
        case TAG_MODULE:
            if (tag->size >= sizeof(struct module_tag)) {
                const struct module_tag *m = (const struct module_tag *)tag;
                modules++;
                if (!bundle || is_bundle(m)) bundle = m;
            }
            break;
        case TAG_ACPI_NEW:
            acpi = tag;
            break;
        case TAG_ACPI_OLD:
            if (!acpi) acpi = tag;
            break;
        }
        at += (tag->size + 7) & ~7u;
    }
    info->magic = HV_BOOT_INFO_MAGIC;

    info->kernel_base = page_down((uint64_t)(uintptr_t)x86_kernel_image_start);
    info->kernel_size = page_up((uint64_t)(uintptr_t)x86_kernel_image_end) - info->kernel_base;
    /* A second module is ambiguous unless one is called "bundle"; an unaligned or empty one is refused. */
    if (bundle && (modules == 1 || is_bundle(bundle)) && bundle->end > bundle->start && !(bundle->start & (PAGE - 1))) {
        info->bundle_base = bundle->start;
        info->bundle_size = bundle->end - bundle->start;
    }
    if (acpi) {
        uint32_t length = acpi->size - sizeof(struct tag);
        if (length > sizeof rsdp_copy) length = sizeof rsdp_copy;
        const uint8_t *from = (const uint8_t *)acpi + sizeof(struct tag);
        for (uint32_t i = 0; i < length; i++) rsdp_copy[i] = from[i];
        if (length >= 20) info->acpi_rsdp = (uint64_t)(uintptr_t)rsdp_copy;
    }

    if (memory_map && memory_map->entry_size >= sizeof(struct memory_map_entry)) {
        uint64_t bundle_end = info->bundle_base + page_up(info->bundle_size);
        const uint8_t *entries = (const uint8_t *)memory_map + sizeof(struct memory_map_tag);
        const uint8_t *end = (const uint8_t *)memory_map + memory_map->tag.size;
        for (const uint8_t *e = entries; e + sizeof(struct memory_map_entry) <= end; e += memory_map->entry_size) {
            const struct memory_map_entry *entry = (const struct memory_map_entry *)e;
            if (entry->type != MEMORY_RESERVED && entry->length != 0 && entry->base + entry->length > entry->base) {
                /* Memory of any kind bounds the device address space from below (boot_info.h). */
                uint64_t end = entry->base + entry->length, low = end < FOUR_GIB ? end : FOUR_GIB;
                if (end > info->memory_end) info->memory_end = end;
                if (entry->base < FOUR_GIB && low > info->memory_end_below_4g) info->memory_end_below_4g = low;
            }
            if (entry->type != MEMORY_AVAILABLE || entry->length == 0) continue;
            uint64_t base = page_up(entry->base), top = page_down(entry->base + entry->length);
            if (top < entry->base) continue; /* wraps */
            if (base < MIB) base = MIB;
            add_without(base, top, info->kernel_base, info->kernel_base + info->kernel_size, info->bundle_base,
                        bundle_end);
        }
    }
    return info;
}
