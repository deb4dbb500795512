/// The capability list of a function (status bit 4, pointer at 0x34): each entry's id, where it starts and how
/// many bytes it covers. A hostile or broken device can make the list loop or point into the header: the walk
/// stops after `maxEntries` and never leaves 0x40..0xff.
public struct PCICapability: Equatable, Sendable {
    public var id: UInt8
    public var offset: UInt8
    /// Bytes of the structure the write filter protects (the whole structure for MSI and MSI-X, the two header
    /// bytes for the others).
    public var length: UInt8

    public init(id: UInt8, offset: UInt8, length: UInt8) {
        self.id = id
        self.offset = offset
        self.length = length
    }

    public func contains(_ byte: UInt64) -> Bool { byte >= UInt64(offset) && byte < UInt64(offset) + UInt64(length) }

    public static let maxEntries = 48

    public static func list<C: PCIConfigAccess>(_ config: C, _ a: PCIAddress) -> [PCICapability] {
        guard config.read16(a, PCIConfig.status) & PCIConfig.statusCapabilities != 0 else { return [] }
        var result: [PCICapability] = []
        var next = config.read8(a, PCIConfig.capabilityPointer) & 0xfc
        while next >= PCIConfig.headerEnd, result.count < maxEntries, !result.contains(where: { $0.offset == next }) {
            let id = config.read8(a, next)
            let length: UInt8
            switch id {
            case PCIConfig.capabilityMSI:
                // Control bit 7: 64-bit addresses; bit 8: per-vector masking (mask and pending words).
                let control = config.read16(a, next + 2)
                let wide = control & (1 << 7) != 0, masking = control & (1 << 8) != 0
                length = (wide ? 14 : 10) + (masking ? 10 : 0)
            case PCIConfig.capabilityMSIX:
                length = 12
            default:
                length = 2
            }
            let end = min(UInt64(next) + UInt64(length), 0x100)
            result.append(PCICapability(id: id, offset: next, length: UInt8(end - UInt64(next))))
            next = config.read8(a, next + 1) & 0xfc
        }
        return result
    }
}
