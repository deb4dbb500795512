import XCTest
@testable import DeviceModels

/// Guest RAM for the device tests: a flat byte array from guest-physical 0, which records every write so tests
/// can check where a device wrote, and can refuse a hole (guest memory with a gap).
final class VirtioTestMemory: GuestPhysicalMemory {
    var bytes: [UInt8]
    /// Accesses touching this range fail, like RAM the VM does not have.
    var hole: Range<UInt64>?
    private(set) var writes: [Range<UInt64>] = []

    init(size: Int) { bytes = [UInt8](repeating: 0, count: size) }

    var size: UInt64 { UInt64(bytes.count) }

    private func inside(_ address: UInt64, _ count: Int) -> Bool {
        guard count >= 0, address <= size, UInt64(count) <= size - address else { return false }
        if let hole, address < hole.upperBound, address + UInt64(count) > hole.lowerBound { return false }
        return true
    }

    func read(_ address: UInt64, count: Int) -> [UInt8]? {
        guard inside(address, count) else { return nil }
        return Array(bytes[Int(address)..<Int(address) + count])
    }

    func write(_ address: UInt64, _ data: [UInt8]) -> Bool {
        guard inside(address, data.count) else { return false }
        bytes.replaceSubrange(Int(address)..<Int(address) + data.count, with: data)
        writes.append(address..<address + UInt64(data.count))
        return true
    }

    private func load(_ address: UInt64, _ width: Int) -> UInt64? {
        guard let data = read(address, count: width) else { return nil }
        return data.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }

    private func store(_ address: UInt64, _ value: UInt64, _ width: Int) -> Bool {
        write(address, (0..<width).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) })
    }

    func load16(_ address: UInt64) -> UInt16? { load(address, 2).map { UInt16($0) } }
    func load32(_ address: UInt64) -> UInt32? { load(address, 4).map { UInt32($0) } }
    func load64(_ address: UInt64) -> UInt64? { load(address, 8) }
    func store16(_ address: UInt64, _ value: UInt16) -> Bool { store(address, UInt64(value), 2) }
    func store32(_ address: UInt64, _ value: UInt32) -> Bool { store(address, UInt64(value), 4) }
    func store64(_ address: UInt64, _ value: UInt64) -> Bool { store(address, value, 8) }

    // Test-side helpers (not through the protocol, not recorded).
    func poke(_ address: UInt64, _ data: [UInt8]) { bytes.replaceSubrange(Int(address)..<Int(address) + data.count, with: data) }
    func poke16(_ address: UInt64, _ value: UInt16) { poke(address, [UInt8(value & 0xff), UInt8(value >> 8)]) }
    func poke32(_ address: UInt64, _ value: UInt32) { poke(address, (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }) }
    func poke64(_ address: UInt64, _ value: UInt64) { poke(address, (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }) }
    func peek(_ address: UInt64, _ count: Int) -> [UInt8] { Array(bytes[Int(address)..<Int(address) + count]) }
    func peek16(_ address: UInt64) -> UInt16 { UInt16(bytes[Int(address)]) | UInt16(bytes[Int(address) + 1]) << 8 }
    func peek32(_ address: UInt64) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[Int(address) + $1]) << (8 * UInt32($1)) } }
    func forgetWrites() { writes = [] }
}

/// A descriptor as a test driver lays it out.
struct VirtioTestDescriptor {
    var address: UInt64
    var length: UInt32
    var flags: UInt16
    var next: UInt16 = 0

    static let next: UInt16 = 1
    static let write: UInt16 = 2
    static let indirect: UInt16 = 4

    var bytes: [UInt8] {
        var out: [UInt8] = []
        out += (0..<8).map { UInt8(truncatingIfNeeded: address >> (8 * UInt64($0))) }
        out += (0..<4).map { UInt8(truncatingIfNeeded: length >> (8 * UInt32($0))) }
        out += [UInt8(flags & 0xff), UInt8(flags >> 8), UInt8(next & 0xff), UInt8(next >> 8)]
        return out
    }
}

