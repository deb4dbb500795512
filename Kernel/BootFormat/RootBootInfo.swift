/// The page the kernel maps read-only at `AddressLayout.rootBootInfo` in the root PD: what the root task was given.
/// All fields are little-endian 64-bit words:
///   0 magic `rootInfoMagic`, 1 version, 2 bundle physical address, 3 bundle size in bytes,
///   4 timer ticks per millisecond, 5 memory region count N, 6 device region count D, 7 configuration window count W,
///   8 flags (bit 0: the kernel remaps DMA, so `assign_dev` binds devices to PDs), 9.. N pairs (physical base, size in bytes) of memory the root PD holds, visible at physicalWindow + base,
///   then D pairs of device memory it holds there (uncached: registers, not RAM),
///   then W pairs (ECAM base, segment | start bus << 16 | end bus << 24) from the firmware's MCFG.
public struct RootBootInfo: Equatable, Sendable {
    public static let magic: UInt64 = 0x4942_544f_4f52_5648 // "HVROOTBI"
    public static let version: UInt64 = 2
    public static let headerWords = 9
    public static let maxRegions = 160
    public static let maxDeviceRegions = 64
    public static let maxConfigurationWindows = 8

    public var bundleAddress: UInt64
    public var bundleSize: UInt64
    public var ticksPerMillisecond: UInt64
    public var memory: [PhysicalRange]
    public var deviceMemory: [PhysicalRange]
    public var configurationWindows: [ConfigurationWindow]
    public var dmaRemapping: Bool

    public init(bundleAddress: UInt64, bundleSize: UInt64, ticksPerMillisecond: UInt64, memory: [PhysicalRange],
                deviceMemory: [PhysicalRange] = [], configurationWindows: [ConfigurationWindow] = [],
                dmaRemapping: Bool = false) {
        self.bundleAddress = bundleAddress
        self.bundleSize = bundleSize
        self.ticksPerMillisecond = ticksPerMillisecond
        self.memory = memory
        self.deviceMemory = deviceMemory
        self.configurationWindows = configurationWindows
        self.dmaRemapping = dmaRemapping
    }

    /// The page as words (at most 512). The kernel checks the counts against the limits before it writes.
    public var words: [UInt64] {
        var w: [UInt64] = [Self.magic, Self.version, bundleAddress, bundleSize, ticksPerMillisecond,
                           UInt64(memory.count), UInt64(deviceMemory.count), UInt64(configurationWindows.count),
                           dmaRemapping ? 1 : 0]
        for r in memory + deviceMemory { w.append(r.base); w.append(r.size) }
        for c in configurationWindows {
            w.append(c.base)
            w.append(UInt64(c.segment) | UInt64(c.startBus) << 16 | UInt64(c.endBus) << 24)
        }
        return w
    }

    public enum DecodeError: Error, Equatable {
        case badMagic, badVersion(UInt64), badRegionCount(UInt64), badDeviceRegionCount(UInt64),
             badConfigurationWindowCount(UInt64), badFlags(UInt64)
    }

    /// Decodes the page from a word reader; every field is checked.
    public static func decode(_ word: (Int) -> UInt64) throws(DecodeError) -> RootBootInfo {
        guard word(0) == magic else { throw .badMagic }
        guard word(1) == version else { throw .badVersion(word(1)) }
        let n = word(5), d = word(6), k = word(7)
        guard n <= UInt64(maxRegions) else { throw .badRegionCount(n) }
        guard d <= UInt64(maxDeviceRegions) else { throw .badDeviceRegionCount(d) }
        guard k <= UInt64(maxConfigurationWindows) else { throw .badConfigurationWindowCount(k) }
        guard word(8) & ~1 == 0 else { throw .badFlags(word(8)) }
        func ranges(from first: Int, count: UInt64) -> [PhysicalRange] {
            (0..<Int(count)).map { PhysicalRange(base: word(first + 2 * $0), size: word(first + 2 * $0 + 1)) }
        }
        let memory = ranges(from: headerWords, count: n)
        let devices = ranges(from: headerWords + 2 * Int(n), count: d)
        let windowsAt = headerWords + 2 * Int(n + d)
        let windows = (0..<Int(k)).map { i -> ConfigurationWindow in
            let packed = word(windowsAt + 2 * i + 1)
            return ConfigurationWindow(base: word(windowsAt + 2 * i), segment: UInt16(truncatingIfNeeded: packed),
                                       startBus: UInt8(truncatingIfNeeded: packed >> 16),
                                       endBus: UInt8(truncatingIfNeeded: packed >> 24))
        }
        return RootBootInfo(bundleAddress: word(2), bundleSize: word(3), ticksPerMillisecond: word(4), memory: memory,
                            deviceMemory: devices, configurationWindows: windows, dmaRemapping: word(8) & 1 != 0)
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
