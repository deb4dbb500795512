/// A function's MSI-X capability (PCI 3.0 §6.8.2): how many vectors its table has, and where the table and the
/// pending-bit array lie (a BAR and an offset into it). The table's entries are 16 bytes: message address low and
/// high, data, vector control (bit 0 masks the vector).
public struct PCIMSIX: Equatable, Sendable {
    /// Offset of the capability in configuration space.
    public var capability: UInt8
    public var tableSize: Int
    public var tableBAR: Int
    public var tableOffset: UInt64
    public var pendingBAR: Int
    public var pendingOffset: UInt64

    public static let entryBytes: UInt64 = 16
    public static let enable: UInt16 = 1 << 15
    public static let functionMask: UInt16 = 1 << 14

    public init(capability: UInt8, tableSize: Int, tableBAR: Int, tableOffset: UInt64, pendingBAR: Int, pendingOffset: UInt64) {
        self.capability = capability
        self.tableSize = tableSize
        self.tableBAR = tableBAR
        self.tableOffset = tableOffset
        self.pendingBAR = pendingBAR
        self.pendingOffset = pendingOffset
    }

    /// The function's MSI-X capability; nil without one (or with a table in a BAR number that does not exist).
    public static func find<C: PCIConfigAccess>(_ config: C, _ a: PCIAddress) -> PCIMSIX? {
        guard let cap = PCICapability.list(config, a).first(where: { $0.id == PCIConfig.capabilityMSIX }),
              cap.offset <= 0xf4 else { return nil }
        let control = config.read16(a, cap.offset + 2)
        let table = config.read32(a, cap.offset + 4), pending = config.read32(a, cap.offset + 8)
        guard Int(table & 7) < PCIConfig.barCount, Int(pending & 7) < PCIConfig.barCount else { return nil }
        return PCIMSIX(capability: cap.offset, tableSize: Int(control & 0x7ff) + 1, tableBAR: Int(table & 7),
                       tableOffset: UInt64(table & ~7), pendingBAR: Int(pending & 7), pendingOffset: UInt64(pending & ~7))
    }

    /// The physical pages (page-rounded ranges) of the table and the pending-bit array on `function`'s BARs: the
    /// PCI driver's, never the device driver's, since whoever writes the table chooses the device's messages.
    public func pages(of function: PCIFunction) -> [(base: UInt64, size: UInt64)] {
        var result: [(base: UInt64, size: UInt64)] = []
        for (bar, offset, bytes) in [(tableBAR, tableOffset, UInt64(tableSize) * Self.entryBytes),
                                     (pendingBAR, pendingOffset, (UInt64(tableSize) + 63) / 64 * 8)] {
            guard let b = function.bars.first(where: { $0.index == bar && !$0.isIO }), offset < b.size else { continue }
            let first = (b.base + offset) & ~0xfff
            let end = (b.base + min(b.size, offset + bytes) + 0xfff) & ~0xfff
            if let i = result.firstIndex(where: { $0.base <= end && first <= $0.base + $0.size }) {
                let low = min(result[i].base, first), high = max(result[i].base + result[i].size, end)
                result[i] = (low, high - low)
            } else {
                result.append((first, end - first))
            }
        }
        return result
    }
}
