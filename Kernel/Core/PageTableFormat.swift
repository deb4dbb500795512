import KernelABI

/// How one kind of 4-level page table encodes its entries. The walker (PageTable.swift) is written once over
/// this, so the same code builds a PD's x86-64 tables and, with another format, a VM's nested tables (AMD NPT
/// uses the x86-64 format; Intel EPT has its own bits).
protocol PageTableFormat {
    /// Whether an entry maps something (a table or a leaf).
    static func isPresent(_ entry: UInt64) -> Bool
    /// Whether a present entry at `level` (0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB) is a leaf.
    static func isLeaf(_ entry: UInt64, level: Int) -> Bool
    /// The physical address an entry points to (table frame or page).
    static func address(_ entry: UInt64) -> UInt64
    /// A leaf at `level` for memory-capability `permissions` (`Permissions.device`: uncached).
    static func leaf(_ physical: UInt64, permissions: UInt64, level: Int) -> UInt64
    /// An intermediate entry pointing to the table at `frame` (allows everything: the leaf decides).
    static func table(_ frame: UInt64) -> UInt64
    /// The leaf's rights as the capability's permission bits (read is always included; `device` where the format
    /// has memory types and the leaf is uncached).
    static func permissions(ofLeaf entry: UInt64) -> UInt64
}

/// x86-64 4-level page-table entries.
enum PageTableEntry: PageTableFormat {
    static let present: UInt64 = 1 << 0
    static let writable: UInt64 = 1 << 1
    static let user: UInt64 = 1 << 2
    /// Page-level write-through and cache-disable: with the reset PAT, PWT|PCD is uncacheable (device memory).
    static let writeThrough: UInt64 = 1 << 3
    static let cacheDisable: UInt64 = 1 << 4
    static let uncached: UInt64 = writeThrough | cacheDisable
    static let largePage: UInt64 = 1 << 7
    static let noExecute: UInt64 = 1 << 63
    static let addressMask: UInt64 = 0x000f_ffff_ffff_f000

    /// Flags for a user 4 KiB leaf with memory-capability `permissions` (read is implied on x86).
    static func leafFlags(_ permissions: UInt64) -> UInt64 {
        var flags = present | user
        if permissions & Permissions.write != 0 { flags |= writable }
        if permissions & Permissions.execute == 0 { flags |= noExecute }
        if permissions & Permissions.device != 0 { flags |= uncached }
        return flags
    }

    /// Intermediate user tables allow everything; the leaf decides.
    static let userTable: UInt64 = present | writable | user
    /// The kernel's own tables and 2 MiB identity pages: supervisor only.
    static let kernelTable: UInt64 = present | writable

    static func isPresent(_ entry: UInt64) -> Bool { entry & present != 0 }
    static func isLeaf(_ entry: UInt64, level: Int) -> Bool { level == 0 || entry & largePage != 0 }
    static func address(_ entry: UInt64) -> UInt64 { entry & addressMask }
    static func leaf(_ physical: UInt64, permissions: UInt64, level: Int) -> UInt64 {
        physical | leafFlags(permissions) | (level > 0 ? largePage : 0)
    }
    static func table(_ frame: UInt64) -> UInt64 { frame | userTable }
    static func permissions(ofLeaf entry: UInt64) -> UInt64 {
        Permissions.read | (entry & writable != 0 ? Permissions.write : 0)
            | (entry & noExecute == 0 ? Permissions.execute : 0) | (entry & uncached == uncached ? Permissions.device : 0)
    }
}
