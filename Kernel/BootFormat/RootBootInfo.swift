/// The page the kernel maps read-only at `AddressLayout.rootBootInfo` in the root PD: what the root task was given.
/// All fields are little-endian 64-bit words:
///   0 magic `rootInfoMagic`, 1 version, 2 bundle physical address, 3 bundle size in bytes,
///   4 timer ticks per millisecond, 5 memory region count N,
///   6.. N pairs (physical base, size in bytes) of memory the root PD holds, visible at physicalWindow + base.
public struct RootBootInfo: Equatable, Sendable {
    public static let magic: UInt64 = 0x4942_544f_4f52_5648 // "HVROOTBI"
    public static let version: UInt64 = 1
    public static let maxRegions = 240

    public var bundleAddress: UInt64
    public var bundleSize: UInt64
    public var ticksPerMillisecond: UInt64
    public var memory: [PhysicalRange]

    public init(bundleAddress: UInt64, bundleSize: UInt64, ticksPerMillisecond: UInt64, memory: [PhysicalRange]) {
        self.bundleAddress = bundleAddress
        self.bundleSize = bundleSize
        self.ticksPerMillisecond = ticksPerMillisecond
        self.memory = memory
    }

    /// The page as words (at most 512).
    public var words: [UInt64] {
        var w: [UInt64] = [Self.magic, Self.version, bundleAddress, bundleSize, ticksPerMillisecond,
                           UInt64(min(memory.count, Self.maxRegions))]
        for r in memory.prefix(Self.maxRegions) { w.append(r.base); w.append(r.size) }
        return w
    }

    public enum DecodeError: Error, Equatable { case badMagic, badVersion(UInt64), badRegionCount(UInt64) }

    /// Decodes the page from a word reader; every field is checked.
    public static func decode(_ word: (Int) -> UInt64) throws(DecodeError) -> RootBootInfo {
        guard word(0) == magic else { throw .badMagic }
        guard word(1) == version else { throw .badVersion(word(1)) }
        let n = word(5)
        guard n <= UInt64(maxRegions) else { throw .badRegionCount(n) }
        var memory: [PhysicalRange] = []
        for i in 0..<Int(n) { memory.append(PhysicalRange(base: word(6 + 2 * i), size: word(7 + 2 * i))) }
        return RootBootInfo(bundleAddress: word(2), bundleSize: word(3), ticksPerMillisecond: word(4), memory: memory)
    }
}

/// A range of physical memory.
public struct PhysicalRange: Equatable, Hashable, Sendable {
    public var base: UInt64
    public var size: UInt64
    public init(base: UInt64, size: UInt64) {
        self.base = base
        self.size = size
    }
    public var end: UInt64 { base &+ size }
}
