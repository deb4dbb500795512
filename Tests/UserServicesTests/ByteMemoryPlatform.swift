import UserRuntime

/// Test platforms whose memory is plain bytes (no device registers): their 16- and 32-bit accesses are the bytes
/// of `load8`/`store8`, little-endian.
protocol ByteMemoryPlatform: UserPlatform {}

extension ByteMemoryPlatform {
    func load16(_ address: UInt64) -> UInt16 { UInt16(load8(address)) | UInt16(load8(address + 1)) << 8 }
    func store16(_ address: UInt64, _ value: UInt16) {
        store8(address, UInt8(truncatingIfNeeded: value))
        store8(address + 1, UInt8(truncatingIfNeeded: value >> 8))
    }
    func load32(_ address: UInt64) -> UInt32 { UInt32(load16(address)) | UInt32(load16(address + 2)) << 16 }
    func store32(_ address: UInt64, _ value: UInt32) {
        store16(address, UInt16(truncatingIfNeeded: value))
        store16(address + 2, UInt16(truncatingIfNeeded: value >> 16))
    }
}

/// Test platforms without devices: memory is a dictionary of aligned 64-bit words (absent: 0), ports read all
/// ones and ignore writes (the fake block drivers and providers).
protocol WordMemoryPlatform: ByteMemoryPlatform {
    var memory: [UInt64: UInt64] { get set }
}

extension WordMemoryPlatform {
    func load8(_ address: UInt64) -> UInt8 { UInt8(truncatingIfNeeded: load64(address & ~7) >> (8 * (address & 7))) }
    func store8(_ address: UInt64, _ value: UInt8) {
        let shift = 8 * (address & 7)
        store64(address & ~7, load64(address & ~7) & ~(0xff << shift) | UInt64(value) << shift)
    }
    func load64(_ address: UInt64) -> UInt64 { memory[address] ?? 0 }
    func store64(_ address: UInt64, _ value: UInt64) { memory[address] = value }
    func portIn8(_ port: UInt16) -> UInt8 { 0xff }
    func portOut8(_ port: UInt16, _ value: UInt8) {}
    func portIn16(_ port: UInt16) -> UInt16 { 0xffff }
    func portOut16(_ port: UInt16, _ value: UInt16) {}
    func portIn32(_ port: UInt16) -> UInt32 { 0xffff_ffff }
    func portOut32(_ port: UInt16, _ value: UInt32) {}
}
