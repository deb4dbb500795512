/* Checking the boot bundle's header and copying it to pages of its own. The kernel validates every entry and the
   checksum (Kernel/BootFormat); the loader only makes sure it hands over a whole bundle. */
#include "loader.h"

#define BUNDLE_MAGIC 0x454c444e55425648ULL /* "HVBUNDLE", BootBundleLayout.magic */
#define BUNDLE_VERSION 1
#define BUNDLE_HEADER_SIZE 32

EFI_STATUS place_bundle(UINT8 *bundle, UINTN size, UINT64 *base, UINT64 *bytes) {
    if (size < BUNDLE_HEADER_SIZE) {
        loader_error(L"\\hv\\bundle.bin: %lu bytes is too short for a bundle header", size);
        return EFI_LOAD_ERROR;
    }
    UINT64 magic = *(UINT64 *)bundle;
    UINT32 version = *(UINT32 *)(bundle + 8);
    UINT64 total = *(UINT64 *)(bundle + 16);
    if (magic != BUNDLE_MAGIC) {
        loader_error(L"\\hv\\bundle.bin: bad magic 0x%lx (expected \"HVBUNDLE\")", magic);
        return EFI_LOAD_ERROR;
    }
    if (version != BUNDLE_VERSION) {
        loader_error(L"\\hv\\bundle.bin: version %u is not supported", version);
        return EFI_LOAD_ERROR;
    }
    if (total < BUNDLE_HEADER_SIZE || total > size) {
        loader_error(L"\\hv\\bundle.bin: header claims %lu bytes but the file has %lu", total, size);
        return EFI_LOAD_ERROR;
    }
    EFI_PHYSICAL_ADDRESS address = HV_KERNEL_WINDOW_END - 1; /* below 1 GiB, so it is mapped like the kernel */
    UINTN pages = (total + EFI_PAGE_SIZE - 1) / EFI_PAGE_SIZE;
    EFI_STATUS status = uefi_call_wrapper(BS->AllocatePages, 4, AllocateMaxAddress, EfiLoaderData, pages, &address);
    if (EFI_ERROR(status)) {
        loader_error(L"\\hv\\bundle.bin: cannot allocate %lu pages: %r", pages, status);
        return status;
    }
    ZeroMem((void *)(UINTN)address, pages * EFI_PAGE_SIZE);
    CopyMem((void *)(UINTN)address, bundle, total);
    *base = address;
    *bytes = total;
    return EFI_SUCCESS;
}
