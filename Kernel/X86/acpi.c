/* ACPI: from the RSDP the loader found to one table by its signature, through the XSDT (revision >= 2) or the
   RSDT, checking the RSDP's and the root table's checksums. Firmware memory below 4 GiB is identity mapped. The
   table's own contents (the MADT's entries and checksum) are checked in Swift (BootFormat.InterruptRouting). */
#include "x86.h"

static int sum_is_zero(const uint8_t *p, uint32_t n) {
    uint8_t sum = 0;
    for (uint32_t i = 0; i < n; i++) sum += p[i];
    return sum == 0;
}

static uint32_t read32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static int same_signature(const uint8_t *p, const char *signature) {
    return p[0] == signature[0] && p[1] == signature[1] && p[2] == signature[2] && p[3] == signature[3];
}

int x86_acpi_find_table(uint64_t rsdp_address, const char *signature, const uint8_t **found, uint32_t *length) {
    *found = 0;
    *length = 0;
    if (rsdp_address == 0) return X86_ACPI_NO_RSDP;
    const uint8_t *rsdp = (const uint8_t *)(uintptr_t)rsdp_address;
    if (!same_signature(rsdp, "RSD ") || !sum_is_zero(rsdp, 20)) return X86_ACPI_BAD_RSDP;
    int extended = rsdp[15] >= 2;
    uint64_t root_address = extended ? (uint64_t)read32(rsdp + 24) | (uint64_t)read32(rsdp + 28) << 32 : read32(rsdp + 16);
    if (root_address == 0 || root_address >= (4ull << 30)) return X86_ACPI_BAD_ROOT;
    const uint8_t *root = (const uint8_t *)(uintptr_t)root_address;
    uint32_t root_length = read32(root + 4);
    if (!same_signature(root, extended ? "XSDT" : "RSDT") || root_length < 36 || root_length > (1u << 20) ||
        !sum_is_zero(root, root_length)) {
        return X86_ACPI_BAD_ROOT;
    }
    uint32_t entry_size = extended ? 8 : 4;
    for (uint32_t offset = 36; offset + entry_size <= root_length; offset += entry_size) {
        uint64_t address = read32(root + offset);
        if (extended) address |= (uint64_t)read32(root + offset + 4) << 32;
        if (address == 0 || address >= (4ull << 30)) continue;
        const uint8_t *table = (const uint8_t *)(uintptr_t)address;
        if (!same_signature(table, signature)) continue;
        uint32_t n = read32(table + 4);
        if (n > (1u << 20)) return X86_ACPI_TOO_LARGE;
        *found = table;
        *length = n;
        return X86_ACPI_FOUND;
    }
    return X86_ACPI_NOT_LISTED;
}

int x86_acpi_find_madt(uint64_t rsdp_address, const uint8_t **found, uint32_t *length) {
    return x86_acpi_find_table(rsdp_address, "APIC", found, length);
}

int x86_acpi_find_dmar(uint64_t rsdp_address, const uint8_t **found, uint32_t *length) {
    return x86_acpi_find_table(rsdp_address, "DMAR", found, length);
}
