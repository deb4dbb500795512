/* Reading whole files from the volume the loader itself was loaded from. */
#include "loader.h"

EFI_STATUS read_file(EFI_HANDLE image, CHAR16 *path, UINT8 **data, UINTN *size) {
    EFI_LOADED_IMAGE *loaded;
    EFI_STATUS status = uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol, (void **)&loaded);
    if (EFI_ERROR(status)) {
        loader_error(L"cannot find the loader's own image: %r", status);
        return status;
    }
    EFI_FILE_HANDLE root = LibOpenRoot(loaded->DeviceHandle);
    if (root == NULL) {
        loader_error(L"cannot open the loader's volume");
        return EFI_NOT_FOUND;
    }
    EFI_FILE_HANDLE file;
    status = uefi_call_wrapper(root->Open, 5, root, &file, path, EFI_FILE_MODE_READ, 0);
    if (EFI_ERROR(status)) {
        loader_error(L"cannot open %s: %r", path, status);
        return status;
    }
    EFI_FILE_INFO *file_info = LibFileInfo(file);
    if (file_info == NULL) {
        loader_error(L"cannot read the size of %s", path);
        return EFI_DEVICE_ERROR;
    }
    UINTN length = file_info->FileSize;
    FreePool(file_info);
    if (length == 0) {
        loader_error(L"%s is empty", path);
        return EFI_LOAD_ERROR;
    }
    UINT8 *buffer = AllocatePool(length);
    if (buffer == NULL) {
        loader_error(L"out of memory reading %s (%lu bytes)", path, length);
        return EFI_OUT_OF_RESOURCES;
    }
    UINTN read = length;
    status = uefi_call_wrapper(file->Read, 3, file, &read, buffer);
    uefi_call_wrapper(file->Close, 1, file);
    if (EFI_ERROR(status) || read != length) {
        loader_error(L"cannot read %s: %r (%lu of %lu bytes)", path, status, read, length);
        return EFI_ERROR(status) ? status : EFI_LOAD_ERROR;
    }
    *data = buffer;
    *size = length;
    return EFI_SUCCESS;
}
