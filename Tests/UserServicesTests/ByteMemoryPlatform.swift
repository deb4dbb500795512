import UserRuntime
import XCTest

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

/// Test platforms that model memory-mapped registers only: any port access, 64-bit access or hypercall is a test
/// failure (the ECAM window and the modern virtio device models).
protocol RegisterOnlyPlatform: UserPlatform {}

extension RegisterOnlyPlatform {
    func load64(_ address: UInt64) -> UInt64 { XCTFail("a 64-bit access at \(address)"); return 0 }
    func store64(_ address: UInt64, _ value: UInt64) { XCTFail("a 64-bit access at \(address)") }
    func hypercall(_ number: UInt64, _ a0: UInt64, _ a1: UInt64, _ a2: UInt64, _ a3: UInt64, _ a4: UInt64,
                   _ a5: UInt64) -> (rax: UInt64, rdi: UInt64, rsi: UInt64) { XCTFail("hypercall \(number)"); return (0, 0, 0) }
    func portIn8(_ port: UInt16) -> UInt8 { XCTFail("a port access"); return 0 }
    func portOut8(_ port: UInt16, _ value: UInt8) { XCTFail("a port access") }
    func portIn16(_ port: UInt16) -> UInt16 { XCTFail("a port access"); return 0 }
    func portOut16(_ port: UInt16, _ value: UInt16) { XCTFail("a port access") }
    func portIn32(_ port: UInt16) -> UInt32 { XCTFail("a port access"); return 0 }
    func portOut32(_ port: UInt16, _ value: UInt32) { XCTFail("a port access") }
    func timestamp() -> UInt64 { 0 }
}
