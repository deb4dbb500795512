/// A capability range descriptor (CRD): names a naturally aligned range of 2^order capabilities of one kind,
/// with a permission mask. Packed into one word for the ABI:
///   bits 0-1  kind (0 null, 1 memory, 2 I/O port, 3 object)
///   bits 2-6  permissions (meaning per kind, see `Permissions`)
///   bits 7-11 order (log2 of the count)
///   bits 12-63 base (page number for memory, port for I/O, selector for objects)
public struct CapabilityRange: Equatable, Hashable, Sendable {
    public enum Kind: UInt64, Sendable { case null = 0, memory = 1, io = 2, object = 3 }

    public var kind: Kind
    public var permissions: UInt64
    public var order: UInt64
    public var base: UInt64

    public init(kind: Kind, base: UInt64, order: UInt64 = 0, permissions: UInt64) {
        self.kind = kind
        self.base = base
        self.order = order
        self.permissions = permissions
    }

    public static let null = CapabilityRange(kind: .null, base: 0, order: 0, permissions: 0)

    public var count: UInt64 { order >= 52 ? 0 : 1 << order }

    /// Decodes a word; returns nil when the order is larger than the base field can address.
    public init?(word: UInt64) {
        guard let kind = Kind(rawValue: word & 0x3) else { return nil }
        let order = (word >> 7) & 0x1f
        self.kind = kind
        self.permissions = (word >> 2) & 0x1f
        self.order = order
        self.base = word >> 12
    }

    public var word: UInt64 {
        kind.rawValue | ((permissions & 0x1f) << 2) | ((order & 0x1f) << 7) | (base << 12)
    }

    /// The base must be aligned to the range size so ranges nest like buddies.
    public var isAligned: Bool { order < 52 && base & (count - 1) == 0 }

    /// Splits `first ..< first + count` into the fewest naturally aligned power-of-two blocks, in ascending order
    /// (how a run of pages or ports becomes CRDs; a block never exceeds order `maxOrder`).
    public static func alignedBlocks(first: UInt64, count: UInt64,
                                     maxOrder: UInt64 = 51) -> [(base: UInt64, order: UInt64)] {
        var blocks: [(base: UInt64, order: UInt64)] = []
        var base = first
        var left = count
        while left > 0 {
            var order: UInt64 = 0
            while order < maxOrder, base & ((1 << (order + 1)) - 1) == 0, (1 << (order + 1)) <= left { order += 1 }
            blocks.append((base, order))
            base += 1 << order
            left -= 1 << order
        }
        return blocks
    }
}
