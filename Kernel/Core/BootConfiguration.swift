import BootFormat
import ELFFormat
import KernelABI

/// What the loader (x86 glue or simulator) tells the kernel at boot.
public struct BootConfiguration: Sendable {
    /// RAM the kernel may use: part becomes its own object/page-table pool, the rest is given to the root PD.
    public var freeMemory: [PhysicalRange]
    /// The root task's ELF image, already in physical memory (not part of `freeMemory`).
    public var rootImage: PhysicalRange
    /// The boot bundle, mapped read-only into the root PD at `AddressLayout.physicalWindow + bundle.base`.
    public var bundle: PhysicalRange
    public var ticksPerMillisecond: UInt64
    /// Number of device interrupt lines (irq 0..<interruptCount); at most `RootSelectors.lineCount`.
    public var interruptCount: UInt64
    /// Physical ranges of device registers the root PD may claim as device memory (`claim_mmio`; `Permissions.device`:
    /// mapped uncached, read and write, never execute) at their place in its physical window: page aligned, sorted,
    /// disjoint from each other and from RAM, below `AddressLayout.physicalLimit`. The platform leaves out what the
    /// kernel itself drives (interrupt controllers, IOMMU registers).
    public var deviceMemory: [PhysicalRange]
    /// The PCI configuration windows (ECAM) the firmware's MCFG lists, passed on to the root task; each must lie
    /// in `deviceMemory`.
    public var configurationWindows: [ConfigurationWindow]

    public init(freeMemory: [PhysicalRange], rootImage: PhysicalRange, bundle: PhysicalRange,
                ticksPerMillisecond: UInt64, interruptCount: UInt64, deviceMemory: [PhysicalRange] = [],
                configurationWindows: [ConfigurationWindow] = []) {
        self.freeMemory = freeMemory
        self.rootImage = rootImage
        self.bundle = bundle
        self.ticksPerMillisecond = ticksPerMillisecond
        self.interruptCount = interruptCount
        self.deviceMemory = deviceMemory
        self.configurationWindows = configurationWindows
    }
}

/// Why the kernel could not boot. Every case names what was wrong.
public enum BootError: Error, Equatable, CustomStringConvertible {
    /// After page alignment, free memory cannot hold the kernel pool plus the root task's pages.
    case notEnoughMemory(neededPages: UInt64, availablePages: UInt64)
    /// A free-memory range overlaps the root image, the bundle, another free range, or user space limits.
    case overlappingMemory(PhysicalRange)
    /// A physical range lies beyond what the kernel's identity map can cover (512 GiB).
    case memoryBeyondKernelMap(PhysicalRange)
    case interruptCountTooLarge(UInt64)
    case zeroTimerRate
    /// The root image is not a loadable ELF64 x86-64 executable.
    case badRootImage(ELFError)
    /// A root image segment lies outside user space or collides with the boot info, UTCB or stack pages.
    case rootSegmentOutOfPlace(index: Int, virtualAddress: UInt64)
    /// A device memory range is not page aligned, empty, out of order, overlaps RAM, the image or the bundle, or
    /// reaches `AddressLayout.physicalLimit`.
    case badDeviceMemory(PhysicalRange)
    /// A configuration window does not lie in device memory.
    case configurationWindowOutsideDeviceMemory(ConfigurationWindow)
    /// More ranges than the root's boot information page can list (`RootBootInfo` limits).
    case tooManyRanges(what: String, count: Int, limit: Int)

    public var description: String {
        switch self {
        case .notEnoughMemory(let needed, let available):
            return "boot: not enough free memory: need \(needed) pages, have \(available)"
        case .overlappingMemory(let r):
            return "boot: free memory range \(hex(r.base))+\(hex(r.size)) overlaps the root image, bundle or another range"
        case .memoryBeyondKernelMap(let r):
            return "boot: physical range \(hex(r.base))+\(hex(r.size)) lies beyond the kernel's 512 GiB identity map"
        case .interruptCountTooLarge(let n):
            return "boot: interrupt count \(n) exceeds the \(RootSelectors.lineCount) interrupt line selectors"
        case .zeroTimerRate:
            return "boot: ticksPerMillisecond is 0"
        case .badRootImage(let error):
            return "boot: root image: \(error)"
        case .rootSegmentOutOfPlace(let index, let address):
            return "boot: root image segment \(index) at \(hex(address)) is outside user space or overlaps the boot pages"
        case .badDeviceMemory(let r):
            return "boot: device memory \(hex(r.base))+\(hex(r.size)) is unaligned, empty, out of order, overlaps memory or lies beyond \(hex(AddressLayout.physicalLimit))"
        case .configurationWindowOutsideDeviceMemory(let w):
            return "boot: PCI configuration window \(w.description) is not device memory"
        case let .tooManyRanges(what, count, limit):
            return "boot: \(count) \(what), the root's boot information lists at most \(limit)"
        }
    }
}

/// Hexadecimal without Foundation (Embedded-clean).
func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
