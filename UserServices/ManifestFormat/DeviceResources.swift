/// Device resources a component may be granted. Ranges are half-open: `first ..< first + count`.

/// A range of x86 I/O ports.
public struct PortRange: Equatable, Sendable {
    public var first: UInt64
    public var count: UInt64
    public init(first: UInt64, count: UInt64) {
        self.first = first
        self.count = count
    }
    public var end: UInt64 { first &+ count }
    public func overlaps(_ other: PortRange) -> Bool { first < other.end && other.first < end }
    /// Ports are 16-bit: the range must be non-empty and end at or below 0x10000.
    public var isValid: Bool { count > 0 && first < 0x1_0000 && count <= 0x1_0000 - first }
}

/// A range of memory-mapped device registers (physical addresses, page granular).
public struct MMIORange: Equatable, Sendable {
    public var base: UInt64
    public var size: UInt64
    public init(base: UInt64, size: UInt64) {
        self.base = base
        self.size = size
    }
    public var end: UInt64 { base &+ size }
    public func overlaps(_ other: MMIORange) -> Bool { base < other.end && other.base < end }
    /// This range without `other` (nothing, one or two pieces).
    public func subtracting(_ other: MMIORange) -> [MMIORange] {
        guard overlaps(other) else { return [self] }
        var pieces: [MMIORange] = []
        if base < other.base { pieces.append(MMIORange(base: base, size: other.base - base)) }
        if other.end < end { pieces.append(MMIORange(base: other.end, size: end - other.end)) }
        return pieces
    }

    /// Non-empty, page aligned, and not wrapping around the address space.
    public var isValid: Bool {
        size > 0 && base % SystemDescription.pageSize == 0 && size % SystemDescription.pageSize == 0
            && size <= UInt64.max - base
    }
}
