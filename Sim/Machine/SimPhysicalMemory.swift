#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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

/// The machine's RAM: a fixed size, reserved as one anonymous mapping that the host fills with zero pages on first
/// touch, so a 4 GiB machine costs only what it touches. Every page has a stable host address (`hostPointer`), so a
/// guest CPU engine can map simulated RAM without copies and see the same bytes as the kernel.
public final class SimPhysicalMemory {
    public static let pageSize: UInt64 = 4096
    public let size: UInt64
    private let base: UnsafeMutableRawPointer
    /// Pages that were written or handed out as host pointers.
    private var touched: Set<UInt64> = []
    /// Accesses so far (the page walker counts its walks here too).
    public let counters = SimCounters()

    public init(size: UInt64) {
        precondition(size % Self.pageSize == 0, "RAM size must be a whole number of pages")
        self.size = size
        let mapped = mmap(nil, Int(max(size, Self.pageSize)), PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        precondition(mapped != MAP_FAILED && mapped != nil, "cannot reserve \(size) bytes of host address space")
        base = mapped!
    }

    deinit { munmap(base, Int(max(size, Self.pageSize))) }

    /// Pages that were ever written (for tests and memory accounting).
    public var touchedPageCount: Int { touched.count }

    private func check(_ address: UInt64, alignment: UInt64) throws(SimPhysicalMemoryError) {
        guard address < size, size - address >= alignment else { throw .outOfRange(address: address, size: size) }
        guard address % alignment == 0 else { throw .misaligned(address: address, alignment: alignment) }
    }

    /// The host address of the page holding `address` (stable for the memory's lifetime). The page counts as touched:
    /// whoever holds the pointer may write it.
    public func hostPointer(page address: UInt64) throws(SimPhysicalMemoryError) -> UnsafeMutableRawPointer {
        try check(address & ~(Self.pageSize - 1), alignment: Self.pageSize)
        touched.insert(address / Self.pageSize)
        return base + Int(address & ~(Self.pageSize - 1))
    }

    public func read64(_ address: UInt64) throws(SimPhysicalMemoryError) -> UInt64 {
        try check(address, alignment: 8)
        counters.wordReads += 1
        return base.load(fromByteOffset: Int(address), as: UInt64.self)
    }

    public func write64(_ address: UInt64, _ value: UInt64) throws(SimPhysicalMemoryError) {
        try check(address, alignment: 8)
        counters.wordWrites += 1
        let page = address / Self.pageSize
        if !touched.contains(page) {
            if value == 0 { return } // a zero write to an untouched page changes nothing
            touched.insert(page)
        }
        base.storeBytes(of: value, toByteOffset: Int(address), as: UInt64.self)
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
        memset(base + Int(address), 0, Int(Self.pageSize))
        touched.remove(address / Self.pageSize)
    }

    public func copyPage(from source: UInt64, to destination: UInt64) throws(SimPhysicalMemoryError) {
        try check(source, alignment: Self.pageSize)
        try check(destination, alignment: Self.pageSize)
        counters.pagesCopied += 1
        memmove(base + Int(destination), base + Int(source), Int(Self.pageSize))
        if touched.contains(source / Self.pageSize) {
            touched.insert(destination / Self.pageSize)
        } else {
            touched.remove(destination / Self.pageSize)
        }
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
