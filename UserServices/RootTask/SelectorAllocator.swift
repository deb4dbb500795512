/// Hands out selectors of the root PD's capability space, naturally aligned blocks for ranges that are delegated
/// with one CRD. Selectors are not reused: a component is restarted at most `RootLayout.maxRestarts` times, so the
/// space needed stays bounded.
public struct SelectorAllocator: Equatable, Sendable {
    public private(set) var next: UInt64
    public let limit: UInt64

    public init(first: UInt64, limit: UInt64 = 1 << 20) {
        next = first
        self.limit = limit
    }

    /// `1 << order` consecutive selectors starting at a multiple of `1 << order`; nil when the space is used up.
    public mutating func allocate(order: UInt64 = 0) -> UInt64? {
        let size: UInt64 = 1 << order
        let base = (next + size - 1) & ~(size - 1)
        guard base < limit, size <= limit - base else { return nil }
        next = base + size
        return base
    }
}
