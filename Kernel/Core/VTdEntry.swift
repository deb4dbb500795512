import KernelABI

/// Intel VT-d second-level paging entries (VT-d spec 9.8), the format of a PD's DMA table: bit 0 read, bit 1
/// write, bit 7 on a level-1 or level-2 entry a 2 MiB or 1 GiB leaf, bits 12-51 the address. Execute (bit 2), the
/// memory type (bits 3-6), snoop (11) and transient mapping (62) stay 0: devices only read and write, and DMA is
/// coherent on the machines the kernel runs on. Accessed/dirty tracking is off, so nothing changes behind the
/// kernel's back.
///
/// Invariants: every entry the kernel writes has the read bit (memory capabilities always include read);
/// intermediate entries allow read and write and the leaf decides.
enum VTdEntry: PageTableFormat {
    static let read: UInt64 = 1 << 0
    static let write: UInt64 = 1 << 1
    static let largePage: UInt64 = 1 << 7
    static let addressMask: UInt64 = 0x000f_ffff_ffff_f000

    static func isPresent(_ entry: UInt64) -> Bool { entry & (read | write) != 0 }
    static func isLeaf(_ entry: UInt64, level: Int) -> Bool { level == 0 || entry & largePage != 0 }
    static func address(_ entry: UInt64) -> UInt64 { entry & addressMask }
    static func leaf(_ physical: UInt64, permissions: UInt64, level: Int) -> UInt64 {
        var entry = physical | read
        if permissions & Permissions.write != 0 { entry |= write }
        return level > 0 ? entry | largePage : entry
    }
    static func table(_ frame: UInt64) -> UInt64 { frame | read | write }
    /// A device cannot execute: the rights a DMA leaf gives are read and perhaps write.
    static func permissions(ofLeaf entry: UInt64) -> UInt64 {
        Permissions.read | (entry & write != 0 ? Permissions.write : 0)
    }
}
