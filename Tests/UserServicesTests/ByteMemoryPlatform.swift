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
