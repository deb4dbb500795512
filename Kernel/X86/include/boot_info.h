/* What the EFI loader (Boot/efi) hands to the kernel (Kernel/X86) in rdi. Shared by both; plain C, fixed layout. */
#ifndef HV_BOOT_INFO_H
#define HV_BOOT_INFO_H

#include <stdint.h>

#define HV_BOOT_INFO_MAGIC 0x4f464e49544f4f42ULL /* "BOOTINFO" */
#define HV_BOOT_MAX_REGIONS 256

/* Where the kernel's PT_LOAD segments may be placed (physical): above the legacy first MiB, below 1 GiB. */
#define HV_KERNEL_WINDOW_START 0x100000ULL
#define HV_KERNEL_WINDOW_END 0x40000000ULL

struct hv_memory_region {
    uint64_t base;
    uint64_t size;
};

struct hv_boot_info {
    uint64_t magic;
    /* Physical pages the kernel image occupies (loaded PT_LOADs, page-rounded). */
    uint64_t kernel_base, kernel_size;
    /* The boot bundle, copied to page-aligned physical memory. */
    uint64_t bundle_base, bundle_size;
    /* RAM free once boot services are gone (conventional + boot-services memory above 1 MiB), sorted, merged;
       it never overlaps the kernel, the bundle or this structure. */
    uint64_t region_count;
    struct hv_memory_region regions[HV_BOOT_MAX_REGIONS];
    /* Physical address of the ACPI RSDP from the firmware's configuration table (ACPI 2.0 GUID, else 1.0), 0 if none. */
    uint64_t acpi_rsdp;
    /* One past the highest byte of memory of any kind the firmware's map lists (RAM, firmware code and data, ACPI
       tables and NVS, unusable RAM; not MMIO or "reserved"), below 4 GiB and overall: device memory lies above
       these (BootFormat.DeviceAddressSpace), so the root task can never claim RAM as device memory. */
    uint64_t memory_end_below_4g, memory_end;
};

#endif
