import DeviceModels
import UserRuntime

/// A VM's RAM as the device models and the Linux loader reach it (`GuestPhysicalMemory`: virtio DMA, boot_params,
/// ACPI tables): the VMM's bounds-checked view (`GuestMemory`) behind the class protocol they take. Nothing
/// outside guest-physical `0 ..< size` is ever touched.
final class GuestRAM<P: UserPlatform>: GuestPhysicalMemory {
    private(set) var memory: GuestMemory<P>

    init(_ memory: GuestMemory<P>) { self.memory = memory }

    /// Accesses go through `platform` from now on: the EC running now (see `PCMachine.bind`).
    func bind(to platform: P) { memory = GuestMemory(platform: platform, base: memory.base, size: memory.size) }

    var size: UInt64 { memory.size }

    func read(_ address: UInt64, count: Int) -> [UInt8]? {
        guard count >= 0, memory.contains(address, count: UInt64(count)) else { return nil }
        var bytes = [UInt8](repeating: 0, count: count)
        var i = 0
        // Whole words where aligned: the image pays one access per 8 bytes, the simulator one walk per word.
        while i < count {
            let at = address + UInt64(i)
            if at & 7 == 0 && count - i >= 8 {
                let word = memory.platform.load64(memory.base + at)
                for b in 0..<8 { bytes[i + b] = UInt8(truncatingIfNeeded: word >> (8 * UInt64(b))) }
                i += 8
            } else {
                bytes[i] = memory.platform.load8(memory.base + at)
                i += 1
            }
        }
        return bytes
    }

    func write(_ address: UInt64, _ bytes: [UInt8]) -> Bool {
        guard memory.contains(address, count: UInt64(bytes.count)) else { return false }
        var i = 0
        while i < bytes.count {
            let at = address + UInt64(i)
            if at & 7 == 0 && bytes.count - i >= 8 {
                var word: UInt64 = 0
                for b in 0..<8 { word |= UInt64(bytes[i + b]) << (8 * UInt64(b)) }
                memory.platform.store64(memory.base + at, word)
                i += 8
            } else {
                memory.platform.store8(memory.base + at, bytes[i])
                i += 1
            }
        }
        return true
    }

    private func load(_ address: UInt64, _ count: Int) -> UInt64? {
        guard memory.contains(address, count: UInt64(count)) else { return nil }
        var value: UInt64 = 0
        for i in 0..<count { value |= UInt64(memory.platform.load8(memory.base + address + UInt64(i))) << (8 * UInt64(i)) }
        return value
    }

    private func store(_ address: UInt64, _ count: Int, _ value: UInt64) -> Bool {
        guard memory.contains(address, count: UInt64(count)) else { return false }
        for i in 0..<count {
            memory.platform.store8(memory.base + address + UInt64(i), UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))))
        }
        return true
    }

    func load16(_ address: UInt64) -> UInt16? { load(address, 2).map { UInt16(truncatingIfNeeded: $0) } }
    func load32(_ address: UInt64) -> UInt32? { load(address, 4).map { UInt32(truncatingIfNeeded: $0) } }
    func load64(_ address: UInt64) -> UInt64? { memory.load64(address) }
    func store16(_ address: UInt64, _ value: UInt16) -> Bool { store(address, 2, UInt64(value)) }
    func store32(_ address: UInt64, _ value: UInt32) -> Bool { store(address, 4, UInt64(value)) }
    func store64(_ address: UInt64, _ value: UInt64) -> Bool { memory.store64(address, value) }
}
