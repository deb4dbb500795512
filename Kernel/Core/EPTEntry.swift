import KernelABI

/// Intel EPT entries (SDM vol. 3, 29.3.2), the nested-table format of the VMX platform: bits 0-2 read, write,
/// execute; on a leaf bits 3-5 the memory type (6 = write-back for RAM, 0 = uncacheable for device memory,
/// `Permissions.device`) and bit 7 marks a 2 MiB
/// or 1 GiB leaf. Accessed/dirty flags are not enabled (the EPT pointer's bit 6 stays 0), so no bit here changes
/// behind the kernel's back.
///
/// Invariants: every entry the kernel writes has the read bit (write without read, or execute-only, would be an EPT
/// misconfiguration or a right no capability grants: memory capabilities always include read, as on x86-64);
/// intermediate entries allow everything and the leaf decides.
enum EPTEntry: PageTableFormat {
    static let read: UInt64 = 1 << 0
    static let write: UInt64 = 1 << 1
    static let execute: UInt64 = 1 << 2
    static let writeBack: UInt64 = 6 << 3
    static let memoryTypeMask: UInt64 = 7 << 3
    static let largePage: UInt64 = 1 << 7
    static let addressMask: UInt64 = 0x000f_ffff_ffff_f000

    static func isPresent(_ entry: UInt64) -> Bool { entry & (read | write | execute) != 0 }
    static func isLeaf(_ entry: UInt64, level: Int) -> Bool { level == 0 || entry & largePage != 0 }
    static func address(_ entry: UInt64) -> UInt64 { entry & addressMask }
    static func leaf(_ physical: UInt64, permissions: UInt64, level: Int) -> UInt64 {
        var entry = physical | read | (permissions & Permissions.device != 0 ? 0 : writeBack)
        if permissions & Permissions.write != 0 { entry |= write }
        if permissions & Permissions.execute != 0 { entry |= execute }
        return level > 0 ? entry | largePage : entry
    }
    static func table(_ frame: UInt64) -> UInt64 { frame | read | write | execute }
    static func permissions(ofLeaf entry: UInt64) -> UInt64 {
        Permissions.read | (entry & write != 0 ? Permissions.write : 0) | (entry & execute != 0 ? Permissions.execute : 0)
            | (entry & memoryTypeMask == 0 ? Permissions.device : 0)
    }
}
