import DeviceModels

/// Guest RAM for the tests: a byte array from guest-physical 0, bounds-checked like the VMM's.
final class TestRAM: GuestPhysicalMemory {
    var bytes: [UInt8]

    init(size: Int) { bytes = [UInt8](repeating: 0, count: size) }

    var size: UInt64 { UInt64(bytes.count) }

    private func inside(_ address: UInt64, _ count: Int) -> Bool {
        address <= size && UInt64(count) <= size - address
    }

    func read(_ address: UInt64, count: Int) -> [UInt8]? {
        inside(address, count) ? Array(bytes[Int(address)..<Int(address) + count]) : nil
    }

    func write(_ address: UInt64, _ data: [UInt8]) -> Bool {
        guard inside(address, data.count) else { return false }
        bytes.replaceSubrange(Int(address)..<Int(address) + data.count, with: data)
        return true
    }

    private func load(_ address: UInt64, _ width: Int) -> UInt64? {
        read(address, count: width).map { $0.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) } }
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

    func u8(_ address: Int) -> UInt8 { bytes[address] }
    func u16(_ address: Int) -> UInt16 { UInt16(load(UInt64(address), 2)!) }
    func u32(_ address: Int) -> UInt32 { UInt32(load(UInt64(address), 4)!) }
    func u64(_ address: Int) -> UInt64 { load(UInt64(address), 8)! }
}

/// A VM's RAM size without the RAM, for layouts refused before anything is written: every access fails.
final class UnbackedRAM: GuestPhysicalMemory {
    let size: UInt64
    init(size: UInt64) { self.size = size }
    func read(_ address: UInt64, count: Int) -> [UInt8]? { nil }
    func write(_ address: UInt64, _ bytes: [UInt8]) -> Bool { false }
    func load16(_ address: UInt64) -> UInt16? { nil }
    func load32(_ address: UInt64) -> UInt32? { nil }
    func load64(_ address: UInt64) -> UInt64? { nil }
    func store16(_ address: UInt64, _ value: UInt16) -> Bool { false }
    func store32(_ address: UInt64, _ value: UInt32) -> Bool { false }
    func store64(_ address: UInt64, _ value: UInt64) -> Bool { false }
}
