import XCTest
@testable import DeviceModels

/// Interrupt lines that remember their level and every change.
final class PCITestInterruptLines: InterruptLines {
    private(set) var levels: [Int: Bool] = [:]
    private(set) var changes: [(line: Int, high: Bool)] = []

    func setLevel(line: Int, high: Bool) {
        levels[line] = high
        changes.append((line, high))
    }

    func isHigh(_ line: Int) -> Bool { levels[line] ?? false }
}

/// A guest's view of configuration mechanism #1: every access goes through ports 0xCF8 and 0xCFC...0xCFF.
struct PCITestConfigurationAccess {
    let bus: PCIBus

    struct Capability {
        let position: Int
        let type: UInt8
        let bar: UInt8
        let offset: UInt32
        let length: UInt32
        let multiplier: UInt32
    }

    func configRead(slot: Int, offset: Int, size: Int) -> UInt32 {
        bus.portWrite(0xcf8, size: 4, value: 0x8000_0000 | UInt32(slot) << 11 | UInt32(offset & 0xfc))
        return bus.portRead(0xcfc + UInt16(offset & 3), size: size)
    }

    func configWrite(slot: Int, offset: Int, size: Int, value: UInt32) {
        bus.portWrite(0xcf8, size: 4, value: 0x8000_0000 | UInt32(slot) << 11 | UInt32(offset & 0xfc))
        bus.portWrite(0xcfc + UInt16(offset & 3), size: size, value: value)
    }

    /// Slots whose vendor ID is not all ones.
    func enumerate() -> [Int] {
        (0..<32).filter { configRead(slot: $0, offset: 0, size: 2) != 0xffff }
    }

    /// Linux's __pci_read_base: decoding off, write all ones, read the mask back, restore.
    func sizeBAR(slot: Int, bar: Int) -> (size: UInt64, is64: Bool, isIO: Bool) {
        let offset = 0x10 + 4 * bar
        let command = configRead(slot: slot, offset: 4, size: 2)
        configWrite(slot: slot, offset: 4, size: 2, value: command & ~3)
        let low = configRead(slot: slot, offset: offset, size: 4)
        configWrite(slot: slot, offset: offset, size: 4, value: 0xffff_ffff)
        let lowMask = configRead(slot: slot, offset: offset, size: 4)
        configWrite(slot: slot, offset: offset, size: 4, value: low)
        let isIO = low & 1 == 1
        let is64 = !isIO && (low >> 1) & 3 == 2
        var mask = UInt64(lowMask & (isIO ? ~3 : ~0xf))
        if is64 {
            let high = configRead(slot: slot, offset: offset + 4, size: 4)
            configWrite(slot: slot, offset: offset + 4, size: 4, value: 0xffff_ffff)
            mask |= UInt64(configRead(slot: slot, offset: offset + 4, size: 4)) << 32
            configWrite(slot: slot, offset: offset + 4, size: 4, value: high)
        } else {
            mask |= 0xffff_ffff_0000_0000
        }
        configWrite(slot: slot, offset: 4, size: 2, value: command)
        guard lowMask & (isIO ? ~3 : ~0xf) != 0 || is64 && mask >> 32 != 0 else { return (0, false, false) }
        return (~mask &+ 1, is64, isIO)
    }

    func capabilities(slot: Int) -> [Capability] {
        var found: [Capability] = []
        guard configRead(slot: slot, offset: 6, size: 2) & 0x10 != 0 else { return found }
        var position = Int(configRead(slot: slot, offset: 0x34, size: 1))
        var guardCount = 0
        while position != 0 && guardCount < 48 {
            guardCount += 1
            let id = configRead(slot: slot, offset: position, size: 1)
            if id == 0x09 {
                let type = UInt8(configRead(slot: slot, offset: position + 3, size: 1))
                let multiplier = type == 2 ? configRead(slot: slot, offset: position + 16, size: 4) : 0
                found.append(Capability(position: position, type: type,
                                        bar: UInt8(configRead(slot: slot, offset: position + 4, size: 1)),
                                        offset: configRead(slot: slot, offset: position + 8, size: 4),
                                        length: configRead(slot: slot, offset: position + 12, size: 4),
                                        multiplier: multiplier))
            }
            position = Int(configRead(slot: slot, offset: position + 1, size: 1))
        }
        return found
    }
}
