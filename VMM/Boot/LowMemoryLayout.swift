/// Where the Linux loader puts its boot structures below 1 MiB. Linux's 64-bit entry lets them lie anywhere that is
/// identity-mapped; these addresses keep them in the low 64 KiB (which Linux reserves for itself after boot), away
/// from the kernel and the initrd above 1 MiB and from the 2-page trampoline Linux's decompressor places below the
/// EBDA (about 0x9d000). `LinuxBootLoader` checks that nothing it places overlaps and that each region has the e820
/// type it needs.
///
///     0x0000 - 0x0fff  untouched (real-mode IVT and BIOS data area: Linux reads the EBDA pointer at 0x40e, 0 = none)
///     0x1000 - 0x101f  GDT: null, unused, __BOOT_CS 0x10 (64-bit code), __BOOT_DS 0x18 (data)
///     0x2000 - 0x2fff  boot_params (the zero page), rsi at entry
///     0x3000 - 0x3fff  the command line, NUL-terminated
///     0x4000 - 0x7fff  boot stack (rsp = 0x8000 at entry)
///     0x8000 - 0xdfff  page tables: PML4 0x8000, PDPT 0x9000, 4 page directories 0xa000-0xdfff
///                      (the first 4 GiB identity-mapped with 2 MiB pages)
///     0xe0000 - ...    the ACPI tables (RSDP first), inside the e820-reserved 0x9fc00-0xfffff
public enum LowMemoryLayout {
    public static let gdt: UInt64 = 0x1000
    public static let gdtSize: UInt64 = 4 * 8
    public static let zeroPage: UInt64 = 0x2000
    public static let zeroPageSize: UInt64 = 0x1000
    public static let commandLine: UInt64 = 0x3000
    /// Bytes for the command line with its NUL.
    public static let commandLineCapacity: UInt64 = 0x1000
    public static let stackBottom: UInt64 = 0x4000
    public static let stackTop: UInt64 = 0x8000
    public static let pml4: UInt64 = 0x8000
    public static let pdpt: UInt64 = 0x9000
    public static let pageDirectories: UInt64 = 0xa000
    public static let pageDirectoryCount: UInt64 = 4
    public static let pageTablesEnd: UInt64 = pageDirectories + pageDirectoryCount * 0x1000
    /// What the page tables map one to one.
    public static let identityMapSize: UInt64 = pageDirectoryCount << 30
    public static let acpiTables: UInt64 = ACPITables.defaultBase
    /// The ACPI tables must end here (the BIOS area Linux scans for the RSDP ends at 1 MiB).
    public static let acpiTablesEnd: UInt64 = 0x10_0000
}
