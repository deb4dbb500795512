import BootFormat
import KernelABI

/// Hands out 4 KiB physical pages from the memory the root PD holds (`RootBootInfo.memory`), never from a reserved
/// range (the bundle). Pages come back with `free` when a component is torn down.
public struct PageAllocator: Equatable, Sendable {
    public static let pageSize = AddressLayout.pageSize

    /// Untouched memory, page aligned, in ascending order of discovery.
    private var regions: [PhysicalRange]
    private var freed: [UInt64] = []

    public init(memory: [PhysicalRange], reserved: [PhysicalRange]) {
        var pieces: [PhysicalRange] = []
        for range in memory {
            let base = (range.base &+ Self.pageSize &- 1) & ~(Self.pageSize - 1)
            let end = range.end & ~(Self.pageSize - 1)
            // A range that wraps or holds no whole page gives nothing.
            guard range.end >= range.base, base < end else { continue }
            pieces.append(PhysicalRange(base: base, size: end - base))
        }
        for hole in reserved where hole.size > 0 {
            var next: [PhysicalRange] = []
            for piece in pieces {
                let holeStart = hole.base & ~(Self.pageSize - 1)
                let holeEnd = hole.end >= hole.base ? (hole.end &+ Self.pageSize &- 1) & ~(Self.pageSize - 1) : UInt64.max
                if holeEnd <= piece.base || holeStart >= piece.end {
                    next.append(piece)
                    continue
                }
                if holeStart > piece.base { next.append(PhysicalRange(base: piece.base, size: holeStart - piece.base)) }
                if holeEnd < piece.end { next.append(PhysicalRange(base: holeEnd, size: piece.end - holeEnd)) }
            }
            pieces = next
        }
        regions = pieces
    }

    public var freePages: UInt64 {
        var n = UInt64(freed.count)
        for r in regions { n += r.size / Self.pageSize }
        return n
    }

    /// The physical address of a page nobody else has, or nil when memory is exhausted.
    public mutating func allocate() -> UInt64? {
        if let page = freed.popLast() { return page }
        guard let index = regions.firstIndex(where: { $0.size >= Self.pageSize }) else { return nil }
        let page = regions[index].base
        regions[index].base += Self.pageSize
        regions[index].size -= Self.pageSize
        return page
    }

    /// `1 << order` contiguous pages starting at a multiple of their size (guest RAM, so it maps with large pages),
    /// or nil when no untouched region holds such a block. The pages before the block stay available.
    public mutating func allocateBlock(order: UInt64) -> UInt64? {
        let size = Self.pageSize << order
        for (i, region) in regions.enumerated() {
            let start = (region.base &+ size &- 1) & ~(size - 1)
            guard start >= region.base, start <= region.end, region.end - start >= size else { continue }
            regions[i] = PhysicalRange(base: start + size, size: region.end - (start + size))
            if start > region.base { regions.insert(PhysicalRange(base: region.base, size: start - region.base), at: i) }
            return start
        }
        return nil
    }

    /// Returns a block obtained from `allocateBlock`, page by page.
    public mutating func freeBlock(_ base: UInt64, order: UInt64) {
        for i in 0..<(UInt64(1) << order) { free(base + i * Self.pageSize) }
    }

    /// Returns a page obtained from `allocate`.
    public mutating func free(_ page: UInt64) {
        precondition(page % Self.pageSize == 0, "freeing an unaligned page")
        freed.append(page)
    }
}
