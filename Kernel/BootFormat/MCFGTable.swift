/// The ACPI PCI Express memory-mapped configuration table ("MCFG", PCI Firmware spec 4.1.2): where each PCI
/// segment's enhanced configuration space (ECAM) lies. Bus `b`, device `d`, function `f` of a window have their
/// 4 KiB of configuration space at `base + (b << 20 | d << 15 | f << 12)`; `base` is the address of bus 0 even
/// when the window starts at a later bus. The kernel reads it at boot and tells the root task
/// (`RootBootInfo.configurationWindows`), which gives the window to the PCI driver.
///
/// Invariants (checked by `init(table:)`, which rejects tables that break them): at least one window, every base
/// aligned to 1 MiB and non-zero, start bus <= end bus, no window wrapping the address space, no two windows of one
/// segment sharing a bus.
public struct MCFGTable: Equatable, Sendable {
    public var windows: [ConfigurationWindow]

    public init(table: [UInt8]) throws(MCFGError) {
        let headerSize = 44 // the common 36 bytes and 8 reserved
        let length: Int
        switch ACPITableHeader.check(table, signature: [0x4d, 0x43, 0x46, 0x47], headerSize: headerSize) {
        case .success(let n): length = n
        case .failure(let problem): throw MCFGError(problem)
        }
        guard (length - headerSize) % 16 == 0 else { throw .ragged(length: length) }
        windows = []
        for offset in stride(from: headerSize, to: length, by: 16) {
            let window = ConfigurationWindow(base: ACPITableHeader.u64(table, offset),
                                             segment: ACPITableHeader.u16(table, offset + 8),
                                             startBus: table[offset + 10], endBus: table[offset + 11])
            guard window.base != 0, window.base & 0xf_ffff == 0, window.startBus <= window.endBus,
                  window.base <= UInt64.max - (UInt64(window.endBus) + 1) << 20
            else { throw .badWindow(offset: offset, window) }
            if let other = windows.first(where: { $0.segment == window.segment && $0.startBus <= window.endBus
                                                   && window.startBus <= $0.endBus }) {
                throw .overlappingBuses(segment: window.segment, other.startBus, window.startBus)
            }
            windows.append(window)
        }
        guard !windows.isEmpty else { throw .noWindow }
    }
}

/// One segment's ECAM window as the MCFG gives it.
public struct ConfigurationWindow: Equatable, Sendable {
    /// Physical address of bus 0's configuration space (the window itself starts at bus `startBus`).
    public var base: UInt64
    public var segment: UInt16
    public var startBus: UInt8
    public var endBus: UInt8

    public init(base: UInt64, segment: UInt16, startBus: UInt8, endBus: UInt8) {
        self.base = base
        self.segment = segment
        self.startBus = startBus
        self.endBus = endBus
    }

    /// The physical pages the window's buses occupy: 1 MiB per bus.
    public var range: PhysicalRange {
        PhysicalRange(base: base + UInt64(startBus) << 20, size: (UInt64(endBus) - UInt64(startBus) + 1) << 20)
    }

    /// "segment 0 buses 0-255 at 0xb0000000"
    public var description: String {
        "segment \(segment) buses \(startBus)-\(endBus) at 0x" + String(range.base, radix: 16)
    }
}

/// Why an MCFG table was rejected (the kernel then says so at boot and the PCI driver keeps ports 0xcf8/0xcfc).
public enum MCFGError: ACPITableError, Equatable, Sendable, CustomStringConvertible {
    case truncated(length: Int)
    case badSignature
    case badLength(Int)
    case badChecksum
    /// The entries after the header are not whole 16-byte windows.
    case ragged(length: Int)
    case badWindow(offset: Int, ConfigurationWindow)
    case overlappingBuses(segment: UInt16, UInt8, UInt8)
    case noWindow

    public var description: String {
        switch self {
        case let .truncated(n): return "MCFG of \(n) bytes is shorter than its 44-byte header"
        case .badSignature: return "MCFG signature is not \"MCFG\""
        case let .badLength(n): return "MCFG length \(n) is outside its header and the mapped table"
        case .badChecksum: return "MCFG checksum does not add up to zero"
        case let .ragged(n): return "MCFG length \(n) leaves a partial 16-byte window after its header"
        case let .badWindow(offset, w):
            return "MCFG window at offset \(offset) (base 0x\(String(w.base, radix: 16)), buses \(w.startBus)-\(w.endBus)) "
                + "is not a non-zero 1 MiB-aligned range of buses"
        case let .overlappingBuses(segment, a, b):
            return "MCFG windows starting at buses \(a) and \(b) of segment \(segment) share buses"
        case .noWindow: return "MCFG lists no configuration window"
        }
    }
}
