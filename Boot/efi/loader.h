/* The EFI loader's internal interfaces (one file per step: files, kernel image, bundle, memory map). */
#ifndef HV_LOADER_H
#define HV_LOADER_H

#include <efi.h>
#include <efilib.h>
#include "boot_info.h"

/* Prints "hv loader: error: ..." on the firmware console (which OVMF mirrors to the serial port). */
void loader_error(CHAR16 *format, ...);

/* Reads a whole file from the loader's own volume into pool memory. */
EFI_STATUS read_file(EFI_HANDLE image, CHAR16 *path, UINT8 **data, UINTN *size);

/* Checks the kernel ELF (64-bit, little-endian, x86-64, executable, PT_LOADs inside the kernel window, entry inside
   an executable segment), allocates its physical pages at their addresses and copies the segments. */
EFI_STATUS load_kernel(UINT8 *elf, UINTN size, UINT64 *entry, UINT64 *base, UINT64 *pages);

/* Checks the bundle header (magic, version, total size within the file) and copies it to pages of its own. */
EFI_STATUS place_bundle(UINT8 *bundle, UINTN size, UINT64 *base, UINT64 *bytes);

/* Gets the memory map, exits boot services and fills `info`'s free regions. No console output after this. */
EFI_STATUS exit_boot_services(EFI_HANDLE image, struct hv_boot_info *info);

#endif
