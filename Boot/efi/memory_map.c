/* Leaving the firmware and turning its memory map into the kernel's list of free RAM. */
#include "loader.h"

/* Memory the kernel may reuse once boot services are gone. Loader data holds the kernel, the bundle and the boot
   information, so it is never free. */
static BOOLEAN is_free(UINT32 type) {
    return type == EfiConventionalMemory || type == EfiBootServicesCode || type == EfiBootServicesData;
}

/* Memory of any kind (for the device address space's lower bound): everything but MMIO and "reserved", which on
   OVMF includes the PCI configuration window. */
static BOOLEAN is_memory(UINT32 type) {
    return type != EfiReservedMemoryType && type != EfiMemoryMappedIO && type != EfiMemoryMappedIOPortSpace;
}

static void note_memory(struct hv_boot_info *info, UINT64 base, UINT64 end) {
    if (end > info->memory_end) info->memory_end = end;
    if (base < 0x100000000ULL) {
        UINT64 low = end < 0x100000000ULL ? end : 0x100000000ULL;
        if (low > info->memory_end_below_4g) info->memory_end_below_4g = low;
    }
}

static void add_region(struct hv_boot_info *info, UINT64 base, UINT64 end) {
    if (base < HV_KERNEL_WINDOW_START) base = HV_KERNEL_WINDOW_START; /* leave the legacy first MiB alone */
    if (end <= base) return;
    /* Keep the list sorted and merged so the kernel sees few, large regions. */
    UINTN i = 0;
    while (i < info->region_count && info->regions[i].base < base) i++;
    if (i > 0 && info->regions[i - 1].base + info->regions[i - 1].size == base) {
        info->regions[i - 1].size += end - base;
        if (i < info->region_count && info->regions[i].base == end) {
            info->regions[i - 1].size += info->regions[i].size;
            for (UINTN j = i; j + 1 < info->region_count; j++) info->regions[j] = info->regions[j + 1];
            info->region_count--;
        }
        return;
    }
    if (i < info->region_count && info->regions[i].base == end) {
        info->regions[i].base = base;
        info->regions[i].size += end - base;
        return;
    }
    if (info->region_count == HV_BOOT_MAX_REGIONS) return; /* the smallest tail of a fragmented map is dropped */
    for (UINTN j = info->region_count; j > i; j--) info->regions[j] = info->regions[j - 1];
    info->regions[i].base = base;
    info->regions[i].size = end - base;
    info->region_count++;
}

EFI_STATUS exit_boot_services(EFI_HANDLE image, struct hv_boot_info *info) {
    /* The map buffer is allocated once with room to spare: allocating changes the map, and the key must be current. */
    UINTN map_size = 0, map_key, descriptor_size;
    UINT32 descriptor_version;
    EFI_MEMORY_DESCRIPTOR *map = NULL;
    EFI_STATUS status = uefi_call_wrapper(BS->GetMemoryMap, 5, &map_size, map, &map_key, &descriptor_size,
                                          &descriptor_version);
    if (status != EFI_BUFFER_TOO_SMALL) return status;
    UINTN capacity = map_size + 16 * descriptor_size;
    map = AllocatePool(capacity);
    if (map == NULL) return EFI_OUT_OF_RESOURCES;
    for (int attempt = 0; attempt < 4; attempt++) {
        map_size = capacity;
        status = uefi_call_wrapper(BS->GetMemoryMap, 5, &map_size, map, &map_key, &descriptor_size,
                                   &descriptor_version);
        if (EFI_ERROR(status)) return status;
        status = uefi_call_wrapper(BS->ExitBootServices, 2, image, map_key);
        if (status == EFI_SUCCESS) break;
    }
    if (EFI_ERROR(status)) return status;
    for (UINTN offset = 0; offset + descriptor_size <= map_size; offset += descriptor_size) {
        EFI_MEMORY_DESCRIPTOR *d = (EFI_MEMORY_DESCRIPTOR *)((UINT8 *)map + offset);
        UINT64 end = d->PhysicalStart + d->NumberOfPages * EFI_PAGE_SIZE;
        if (is_free(d->Type)) add_region(info, d->PhysicalStart, end);
        if (is_memory(d->Type)) note_memory(info, d->PhysicalStart, end);
    }
    return EFI_SUCCESS;
}
