/// The page tables and GDT Linux's 64-bit boot protocol asks the loader for: paging on with an identity map of
/// everything the kernel touches before it builds its own tables (its image up to init_size, boot_params, the command
/// line, the initrd), and a GDT with flat __BOOT_CS (0x10, execute/read, 64-bit) and __BOOT_DS (0x18, read/write).
public enum LongModeStructures {
    public static let codeSelector: UInt16 = 0x10
    public static let dataSelector: UInt16 = 0x18
    public static let codeDescriptor: UInt64 = 0x00af_9b00_0000_ffff  // G, L, present, DPL 0, code execute/read, accessed
    public static let dataDescriptor: UInt64 = 0x00cf_9300_0000_ffff  // G, D/B, present, DPL 0, data read/write, accessed
    /// The same descriptors' access byte | flags nibble << 8: the attribute form of a VM's segment registers.
    public static let codeAttributes: UInt16 = 0xa9b
    public static let dataAttributes: UInt16 = 0xc93

    public static let cr0: UInt64 = 0x8000_0031  // PG, NE, ET, PE
    public static let cr4: UInt64 = 0x20  // PAE
    public static let efer: UInt64 = 0x500  // LMA, LME

    /// The GDT: null, unused, code, data.
    public static func gdt() -> [UInt8] {
        [0, 0, codeDescriptor, dataDescriptor].flatMap { LittleEndianBytes.encode($0, width: 8) }
    }

    /// The page-table pages, in address order from `LowMemoryLayout.pml4`: PML4, PDPT, then the page directories,
    /// mapping [0, identityMapSize) with 2 MiB pages (present, writable).
    public static func pageTables() -> [[UInt8]] {
        let layout = LowMemoryLayout.self
        var pml4 = LittleEndianBytes(count: 0x1000)
        pml4.set(0, u64: layout.pdpt | 0x3)
        var pdpt = LittleEndianBytes(count: 0x1000)
        var directories: [[UInt8]] = []
        for d in 0..<layout.pageDirectoryCount {
            pdpt.set(Int(d) * 8, u64: (layout.pageDirectories + d * 0x1000) | 0x3)
            var directory = LittleEndianBytes(count: 0x1000)
            for i in UInt64(0)..<512 { directory.set(Int(i) * 8, u64: (d * 512 + i) << 21 | 0x83) }
            directories.append(directory.bytes)
        }
        return [pml4.bytes, pdpt.bytes] + directories
    }
}
