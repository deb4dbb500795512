/* Checking and loading the kernel ELF at its physical addresses. */
#include "loader.h"
#include <elf.h>

/* Names what already occupies [first, first + pages) when the kernel's pages cannot be had. */
static void report_occupants(EFI_PHYSICAL_ADDRESS first, UINTN pages) {
    UINTN entries, key, descriptor_size;
    UINT32 version;
    EFI_MEMORY_DESCRIPTOR *map = LibMemoryMap(&entries, &key, &descriptor_size, &version);
    if (map == NULL) return;
    UINT64 end = first + pages * EFI_PAGE_SIZE;
    for (UINTN i = 0; i < entries; i++) {
        EFI_MEMORY_DESCRIPTOR *d = (EFI_MEMORY_DESCRIPTOR *)((UINT8 *)map + i * descriptor_size);
        UINT64 d_end = d->PhysicalStart + d->NumberOfPages * EFI_PAGE_SIZE;
        if (d->PhysicalStart < end && d_end > first && d->Type != EfiConventionalMemory)
            loader_error(L"  0x%lx-0x%lx is firmware memory of type %u", d->PhysicalStart, d_end, d->Type);
    }
    FreePool(map);
}

static EFI_STATUS reject(CHAR16 *what) {
    loader_error(L"\\hv\\kernel.elf: %s", what);
    return EFI_LOAD_ERROR;
}

EFI_STATUS load_kernel(UINT8 *elf, UINTN size, UINT64 *entry, UINT64 *base, UINT64 *pages) {
    if (size < sizeof(Elf64_Ehdr)) return reject(L"too short for an ELF header");
    Elf64_Ehdr *header = (Elf64_Ehdr *)elf;
    if (CompareMem(header->e_ident, ELFMAG, SELFMAG) != 0) return reject(L"not an ELF file (bad magic)");
    if (header->e_ident[EI_CLASS] != ELFCLASS64) return reject(L"not a 64-bit ELF");
    if (header->e_ident[EI_DATA] != ELFDATA2LSB) return reject(L"not little-endian");
    if (header->e_machine != EM_X86_64) return reject(L"not an x86-64 ELF");
    if (header->e_type != ET_EXEC) return reject(L"not an executable (ET_EXEC)");
    if (header->e_phentsize != sizeof(Elf64_Phdr) || header->e_phnum == 0 ||
        header->e_phoff > size || (UINT64)header->e_phnum * sizeof(Elf64_Phdr) > size - header->e_phoff)
        return reject(L"program headers missing or outside the file");

    Elf64_Phdr *segments = (Elf64_Phdr *)(elf + header->e_phoff);
    UINT64 low = ~0ULL, high = 0;
    BOOLEAN entry_ok = FALSE;
    for (UINTN i = 0; i < header->e_phnum; i++) {
        Elf64_Phdr *s = &segments[i];
        if (s->p_type != PT_LOAD || s->p_memsz == 0) continue;
        if (s->p_filesz > s->p_memsz || s->p_offset > size || s->p_filesz > size - s->p_offset) {
            loader_error(L"\\hv\\kernel.elf: segment %lu lies outside the file", i);
            return EFI_LOAD_ERROR;
        }
        if (s->p_paddr < HV_KERNEL_WINDOW_START || s->p_paddr > HV_KERNEL_WINDOW_END ||
            s->p_memsz > HV_KERNEL_WINDOW_END - s->p_paddr) {
            loader_error(L"\\hv\\kernel.elf: segment %lu at 0x%lx+0x%lx is outside the allowed window 0x%lx-0x%lx", i,
                         s->p_paddr, s->p_memsz, HV_KERNEL_WINDOW_START, HV_KERNEL_WINDOW_END);
            return EFI_LOAD_ERROR;
        }
        if (s->p_paddr < low) low = s->p_paddr;
        if (s->p_paddr + s->p_memsz > high) high = s->p_paddr + s->p_memsz;
        if ((s->p_flags & PF_X) && header->e_entry >= s->p_paddr && header->e_entry < s->p_paddr + s->p_memsz)
            entry_ok = TRUE;
    }
    if (high == 0) return reject(L"no loadable segments");
    if (!entry_ok) return reject(L"entry point is not inside an executable segment");

    EFI_PHYSICAL_ADDRESS first = low & ~(UINT64)(EFI_PAGE_SIZE - 1);
    UINTN count = (high - first + EFI_PAGE_SIZE - 1) / EFI_PAGE_SIZE;
    EFI_STATUS status = uefi_call_wrapper(BS->AllocatePages, 4, AllocateAddress, EfiLoaderData, count, &first);
    if (EFI_ERROR(status)) {
        loader_error(L"\\hv\\kernel.elf: physical pages 0x%lx (%lu pages) are not free: %r", first, count, status);
        report_occupants(first, count);
        return status;
    }
    ZeroMem((void *)(UINTN)first, count * EFI_PAGE_SIZE);
    for (UINTN i = 0; i < header->e_phnum; i++) {
        Elf64_Phdr *s = &segments[i];
        if (s->p_type == PT_LOAD && s->p_filesz > 0)
            CopyMem((void *)(UINTN)s->p_paddr, elf + s->p_offset, s->p_filesz);
    }
    *entry = header->e_entry;
    *base = first;
    *pages = count;
    return EFI_SUCCESS;
}
