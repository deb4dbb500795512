/// Why a physical memory access failed: the address lies beyond the machine's RAM or is misaligned.
public enum SimPhysicalMemoryError: Error, Equatable, CustomStringConvertible {
    case outOfRange(address: UInt64, size: UInt64)
    case misaligned(address: UInt64, alignment: UInt64)

    public var description: String {
        switch self {
        case .outOfRange(let address, let size):
            return "physical address \(simHex(address)) is beyond the machine's \(simHex(size)) bytes of RAM"
        case .misaligned(let address, let alignment):
            return "physical address \(simHex(address)) is not \(alignment)-byte aligned"
        }
    }
}

/// The machine's RAM: a fixed size, stored sparsely as 4 KiB pages that come into existence (zeroed) on first
/// write, so a 4 GiB machine costs only what it touches.
public final class SimPhysicalMemory {
    public static let pageSize: UInt64 = 4096
    public let size: UInt64
    private var pages: [UInt64: [UInt64]] = [:]
    /// Accesses so far (the page walker counts its walks here too).
    public let counters = SimCounters()

    public init(size: UInt64) {
        precondition(size % Self.pageSize == 0, "RAM size must be a whole number of pages")
        self.size = size
    }

    /// Pages that were ever written (for tests and memory accounting).
    public var touchedPageCount: Int { pages.count }

    private func check(_ address: UInt64, alignment: UInt64) throws(SimPhysicalMemoryError) {
        guard address < size, size - address >= alignment else { throw .outOfRange(address: address, size: size) }
        guard address % alignment == 0 else { throw .misaligned(address: address, alignment: alignment) }
    }

    public func read64(_ address: UInt64) throws(SimPhysicalMemoryError) -> UInt64 {
        try check(address, alignment: 8)
        counters.wordReads += 1
        return pages[address / Self.pageSize]?[Int(address % Self.pageSize / 8)] ?? 0
    }

    public func write64(_ address: UInt64, _ value: UInt64) throws(SimPhysicalMemoryError) {
        try check(address, alignment: 8)
        counters.wordWrites += 1
        let page = address / Self.pageSize
        if pages[page] == nil {
            if value == 0 { return } // a zero write to an untouched page changes nothing
            pages[page] = [UInt64](repeating: 0, count: 512)
        }
        pages[page]![Int(address % Self.pageSize / 8)] = value
    }

    public func read8(_ address: UInt64) throws(SimPhysicalMemoryError) -> UInt8 {
        try check(address, alignment: 1)
        let word = try read64(address & ~7)
        return UInt8(truncatingIfNeeded: word >> ((address & 7) * 8))
    }

    public func write8(_ address: UInt64, _ value: UInt8) throws(SimPhysicalMemoryError) {
        try check(address, alignment: 1)
        let shift = (address & 7) * 8
        let word = try read64(address & ~7)
        try write64(address & ~7, (word & ~(0xff << shift)) | UInt64(value) << shift)
    }

    public func zeroPage(_ address: UInt64) throws(SimPhysicalMemoryError) {
        try check(address, alignment: Self.pageSize)
        counters.pagesZeroed += 1
        pages[address / Self.pageSize] = nil
    }

    public func copyPage(from source: UInt64, to destination: UInt64) throws(SimPhysicalMemoryError) {
        try check(source, alignment: Self.pageSize)
        try check(destination, alignment: Self.pageSize)
        counters.pagesCopied += 1
        pages[destination / Self.pageSize] = pages[source / Self.pageSize]
    }

    /// Copies host bytes into RAM (loading images, writing bundles).
    public func write(_ bytes: [UInt8], at address: UInt64) throws(SimPhysicalMemoryError) {
        for (i, byte) in bytes.enumerated() { try write8(address + UInt64(i), byte) }
    }

    public func read(_ count: Int, at address: UInt64) throws(SimPhysicalMemoryError) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        for i in 0..<count { bytes.append(try read8(address + UInt64(i))) }
        return bytes
    }
}

/// "0x..." in lowercase hex, for error messages and traces.
public func simHex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
