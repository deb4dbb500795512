import UserRuntime

/// A user platform without a kernel: flat memory, scripted port reads, recorded port writes. Hypercalls answer
/// success with zeros and are recorded.
final class FakeUserPlatform: ByteMemoryPlatform {
    var memory: [UInt64: UInt8] = [:]
    var portReads: (UInt16) -> UInt8 = { _ in 0xff }
    var portWrites: [(UInt16, UInt8)] = []
    var hypercalls: [[UInt64]] = []
    var utcbAddress: UInt64 = 0x10000
    var componentState: AnyObject?

    func hypercall(_ number: UInt64, _ a0: UInt64, _ a1: UInt64, _ a2: UInt64, _ a3: UInt64, _ a4: UInt64,
                   _ a5: UInt64) -> (rax: UInt64, rdi: UInt64, rsi: UInt64) {
        hypercalls.append([number, a0, a1, a2, a3, a4, a5])
        return (0, 0, 0)
    }
    func load8(_ address: UInt64) -> UInt8 { memory[address] ?? 0 }
    func store8(_ address: UInt64, _ value: UInt8) { memory[address] = value }
    func load64(_ address: UInt64) -> UInt64 {
        (0..<8).reduce(0) { $0 | UInt64(load8(address + UInt64($1))) << (8 * UInt64($1)) }
    }
    func store64(_ address: UInt64, _ value: UInt64) {
        for i in 0..<8 { store8(address + UInt64(i), UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }
    func portIn8(_ port: UInt16) -> UInt8 { portReads(port) }
    func portOut8(_ port: UInt16, _ value: UInt8) { portWrites.append((port, value)) }
    func portIn16(_ port: UInt16) -> UInt16 { UInt16(portIn8(port)) | UInt16(portIn8(port + 1)) << 8 }
    func portOut16(_ port: UInt16, _ value: UInt16) {
        portOut8(port, UInt8(truncatingIfNeeded: value))
        portOut8(port + 1, UInt8(truncatingIfNeeded: value >> 8))
    }
    func portIn32(_ port: UInt16) -> UInt32 { UInt32(portIn16(port)) | UInt32(portIn16(port + 2)) << 16 }
    func portOut32(_ port: UInt16, _ value: UInt32) {
        portOut16(port, UInt16(truncatingIfNeeded: value))
        portOut16(port + 2, UInt16(truncatingIfNeeded: value >> 16))
    }
    func timestamp() -> UInt64 { 0 }
}
