/// Intel's EPT walk (SDM vol. 3, 29.3.2) over simulated RAM, for a simulated machine whose nested paging is EPT
/// (`SimPlatform.nestedPaging = .ept`): four levels; an entry is present when any of read/write/execute is set;
/// bit 7 makes a 2 MiB or 1 GiB leaf; the rights are those of the leaf ANDed with every level's. What the hardware
/// would call a misconfiguration (write without read, a leaf memory type other than write-back, reserved bits) is
/// reported as one: only the kernel writes these tables, so it is a kernel bug, never a guest's fault.
public struct SimEPTWalker {
    public enum Outcome: Equatable, Sendable {
        /// The page is mapped: host-physical page and the effective rights.
        case mapped(host: UInt64, read: Bool, write: Bool, execute: Bool)
        /// Nothing is mapped there (an EPT violation for any access).
        case notMapped
        /// The hardware would refuse the tables themselves (EPT misconfiguration): what is wrong.
        case misconfigured(String)
    }

    static let addressMask: UInt64 = ((1 << SimPageTableWalker.physicalAddressBits) - 1) & ~0xfff
    static let reservedHighMask: UInt64 = ((1 << 52) - 1) & ~((1 << SimPageTableWalker.physicalAddressBits) - 1)

    public let memory: SimPhysicalMemory

    public init(memory: SimPhysicalMemory) { self.memory = memory }

    public func translate(root: UInt64, guestPhysical: UInt64) -> Outcome {
        var table = root & Self.addressMask
        var read = true, write = true, execute = true
        for level in 0..<4 {
            let shift = UInt64(39 - 9 * level)
            let slot = table + ((guestPhysical >> shift) & 511) * 8
            guard let entry = try? memory.read64(slot) else {
                return .misconfigured("EPT entry at \(simHex(slot)) is beyond RAM")
            }
            guard entry & 7 != 0 else { return .notMapped }
            if entry & 2 != 0 && entry & 1 == 0 { return .misconfigured("EPT entry \(simHex(entry)) writes without read") }
            if entry & Self.reservedHighMask != 0 { return .misconfigured("EPT entry \(simHex(entry)) has reserved bits") }
            read = read && entry & 1 != 0
            write = write && entry & 2 != 0
            execute = execute && entry & 4 != 0
            let large = (level == 1 || level == 2) && entry & 0x80 != 0
            if level == 0 && entry & 0x80 != 0 { return .misconfigured("EPT PML4 entry \(simHex(entry)) is a leaf") }
            if level == 3 || large {
                if (entry >> 3) & 7 != 6 { return .misconfigured("EPT leaf \(simHex(entry)) is not write-back") }
                let frameMask = Self.addressMask & ~((1 << shift) - 1)
                if large && entry & Self.addressMask & ((1 << shift) - 1) != 0 {
                    return .misconfigured("EPT large leaf \(simHex(entry)) is not aligned")
                }
                let host = (entry & frameMask) | (guestPhysical & ((1 << shift) - 1) & ~0xfff)
                return .mapped(host: host, read: read, write: write, execute: execute)
            }
            table = entry & Self.addressMask
        }
        return .notMapped
    }
}
