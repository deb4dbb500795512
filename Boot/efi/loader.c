/* BOOTX64.EFI: loads \hv\kernel.elf and \hv\bundle.bin from the ESP, checks both, leaves the firmware and enters the
   kernel with a `struct hv_boot_info *` in rdi. Any problem is reported and the loader returns a failure status. */
#include "loader.h"

void loader_error(CHAR16 *format, ...) {
    va_list args;
    va_start(args, format);
    Print(L"hv loader: error: ");
    VPrint(format, args);
    Print(L"\n");
    va_end(args);
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *system_table) {
    InitializeLib(image, system_table);
    Print(L"hv loader: starting\n");

    UINT8 *kernel_file, *bundle_file;
    UINTN kernel_file_size, bundle_file_size;
    EFI_STATUS status = read_file(image, L"\\hv\\kernel.elf", &kernel_file, &kernel_file_size);
    if (EFI_ERROR(status)) return status;
    status = read_file(image, L"\\hv\\bundle.bin", &bundle_file, &bundle_file_size);
    if (EFI_ERROR(status)) return status;

    struct hv_boot_info *info;
    EFI_PHYSICAL_ADDRESS info_address = 0;
    UINTN info_pages = (sizeof(*info) + EFI_PAGE_SIZE - 1) / EFI_PAGE_SIZE;
    status = uefi_call_wrapper(BS->AllocatePages, 4, AllocateAnyPages, EfiLoaderData, info_pages, &info_address);
    if (EFI_ERROR(status)) {
        loader_error(L"cannot allocate the boot information page: %r", status);
        return status;
    }
    info = (struct hv_boot_info *)(UINTN)info_address;
    ZeroMem(info, sizeof(*info));
    info->magic = HV_BOOT_INFO_MAGIC;

    /* The ACPI root (RSDP): the kernel reads the MADT's interrupt source overrides from it. */
    EFI_GUID acpi20 = ACPI_20_TABLE_GUID;
    for (UINTN i = 0; i < ST->NumberOfTableEntries; i++) {
        EFI_CONFIGURATION_TABLE *t = &ST->ConfigurationTable[i];
        if (CompareGuid(&t->VendorGuid, &acpi20) == 0) info->acpi_rsdp = (UINT64)(UINTN)t->VendorTable;
        else if (info->acpi_rsdp == 0 && CompareGuid(&t->VendorGuid, &AcpiTableGuid) == 0)
            info->acpi_rsdp = (UINT64)(UINTN)t->VendorTable;
    }

    UINT64 entry, kernel_pages;
    status = load_kernel(kernel_file, kernel_file_size, &entry, &info->kernel_base, &kernel_pages);
    if (EFI_ERROR(status)) return status;
    info->kernel_size = kernel_pages * EFI_PAGE_SIZE;
    status = place_bundle(bundle_file, bundle_file_size, &info->bundle_base, &info->bundle_size);
    if (EFI_ERROR(status)) return status;

    Print(L"hv loader: kernel at 0x%lx (entry 0x%lx), bundle at 0x%lx (%lu bytes)\n", info->kernel_base, entry,
          info->bundle_base, info->bundle_size);
    FreePool(kernel_file);
    FreePool(bundle_file);

    status = exit_boot_services(image, info);
    if (EFI_ERROR(status)) {
        loader_error(L"ExitBootServices failed: %r", status);
        return status;
    }
    /* Interrupts off: the kernel installs its own IDT before it enables anything. */
    __asm__ volatile("cli\n\tmov %0, %%rdi\n\tjmp *%1" : : "r"((UINT64)(UINTN)info), "r"(entry) : "rdi", "memory");
    __builtin_unreachable();
}
