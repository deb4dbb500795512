import PCIBus
import Sim

/// A configuration space for the tests: functions with a 256-byte space each, BARs that size themselves the way
/// hardware does (the writable bits keep what is written, the type bits stay), everything else plain memory.
/// An address without a function reads all ones. It is also reachable through the CF8/CFC ports on the simulator
/// (`SimPCIConfigPorts`).
final class FakePCIBus: PCIConfigAccess {
    final class Function {
        var bytes = [UInt8](repeating: 0, count: 256)
        /// Per BAR dword: the bits software may write, and the read-only type bits.
        var barWritable = [UInt32](repeating: 0, count: 6)
        var barFixed = [UInt32](repeating: 0, count: 6)

        init(vendor: UInt16, device: UInt16, classCode: UInt32 = 0, headerType: UInt8 = 0) {
            set16(0, vendor)
            set16(2, device)
            set32(8, classCode << 8)
            bytes[0x0e] = headerType
        }

        func set16(_ at: Int, _ v: UInt16) { for i in 0..<2 { bytes[at + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) } }
        func set32(_ at: Int, _ v: UInt32) { for i in 0..<4 { bytes[at + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) } }
        func get32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[at + $1]) << (8 * $1) } }
        func get16(_ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }

        /// An I/O BAR of `size` ports at `base`.
        func ioBAR(_ i: Int, base: UInt32, size: UInt32) {
            barWritable[i] = ~(size - 1) & 0xffff_fffc
            barFixed[i] = 1
            set32(0x10 + 4 * i, base | 1)
        }

        /// A 32-bit memory BAR.
        func memoryBAR(_ i: Int, base: UInt32, size: UInt32) {
            barWritable[i] = ~(size - 1) & 0xffff_fff0
            set32(0x10 + 4 * i, base)
        }

        /// A 64-bit prefetchable memory BAR in slots i and i + 1.
        func memory64BAR(_ i: Int, base: UInt64, size: UInt64) {
            barWritable[i] = UInt32(truncatingIfNeeded: ~(size - 1)) & 0xffff_fff0
            barFixed[i] = 0xc
            barWritable[i + 1] = UInt32(truncatingIfNeeded: ~(size - 1) >> 32)
            set32(0x10 + 4 * i, UInt32(truncatingIfNeeded: base) | 0xc)
            set32(0x14 + 4 * i, UInt32(truncatingIfNeeded: base >> 32))
        }

        func interrupt(line: UInt8, pin: UInt8) {
            bytes[0x3c] = line
            bytes[0x3d] = pin
        }

        /// Capabilities at the given offsets, linked in order (status bit 4, pointer at 0x34).
        func capabilities(_ list: [(id: UInt8, offset: UInt8)]) {
            set16(6, get16(6) | 0x10)
            bytes[0x34] = list.first?.offset ?? 0
            for (k, c) in list.enumerated() {
                bytes[Int(c.offset)] = c.id
                bytes[Int(c.offset) + 1] = k + 1 < list.count ? list[k + 1].offset : 0
            }
        }
    }

    var functions: [PCIAddress: Function] = [:]
    var writes: [(PCIAddress, UInt8, UInt32)] = []

    func add(_ a: PCIAddress, _ f: Function) { functions[a] = f }

    func read(_ address: PCIAddress, offset: UInt8, width: PCIAccessWidth) -> UInt32 {
        guard let f = functions[address] else { return width.mask }
        var value: UInt32 = 0
        for i in 0..<Int(width.rawValue) { value |= UInt32(f.bytes[Int(offset) + i]) << (8 * i) }
        return value
    }

    func write(_ address: PCIAddress, offset: UInt8, width: PCIAccessWidth, _ value: UInt32) {
        writes.append((address, offset, value))
        guard let f = functions[address] else { return }
        if (0x10..<0x28).contains(offset) {
            let i = Int(offset - 0x10) / 4
            if width == .dword { f.set32(Int(offset), value & f.barWritable[i] | f.barFixed[i]) }
            return
        }
        if offset == 0 || offset == 2 || offset == 0x0e { return } // read-only IDs and header type
        for i in 0..<Int(width.rawValue) { f.bytes[Int(offset) + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }
}

/// `FakePCIBus` behind configuration mechanism #1 on the simulated machine: the address latch at 0xcf8 (written a
/// byte at a time by the simulator's wide accesses, used once its last byte arrives) and the data window
/// 0xcfc..0xcff.
final class SimPCIConfigPorts: SimIODevice {
    let bus: FakePCIBus
    private(set) var latch: UInt32 = 0
    private var pendingWrite: [UInt8: UInt8] = [:]
    let ports: [UInt16] = Array(0xcf8...0xcff)

    init(bus: FakePCIBus) { self.bus = bus }

    private var selected: (PCIAddress, UInt8)? {
        guard latch & 0x8000_0000 != 0 else { return nil }
        return (PCIAddress(routingID: UInt16(truncatingIfNeeded: latch >> 8)), UInt8(truncatingIfNeeded: latch) & 0xfc)
    }

    func portIn(_ port: UInt16, machine: SimMachine) -> UInt8 {
        guard port >= 0xcfc else { return UInt8(truncatingIfNeeded: latch >> (8 * UInt32(port - 0xcf8))) }
        guard let (a, offset) = selected else { return 0xff }
        return UInt8(truncatingIfNeeded: bus.read(a, offset: offset + UInt8(port - 0xcfc), width: .byte))
    }

    func portOut(_ port: UInt16, _ value: UInt8, machine: SimMachine) {
        if port < 0xcfc {
            let shift = 8 * UInt32(port - 0xcf8)
            latch = latch & ~(0xff << shift) | UInt32(value) << shift
            return
        }
        guard let (a, offset) = selected else { return }
        // BAR sizing needs the dword at once: collect a BAR's bytes and write them when the last one arrives.
        let byte = offset + UInt8(port - 0xcfc)
        if (0x10..<0x28).contains(offset) {
            pendingWrite[byte & 3] = value
            if byte & 3 == 3, pendingWrite.count == 4 {
                let dword = (0..<4).reduce(UInt32(0)) { $0 | UInt32(pendingWrite[UInt8($1)]!) << (8 * UInt32($1)) }
                pendingWrite = [:]
                bus.write(a, offset: offset, width: .dword, dword)
            }
            return
        }
        bus.write(a, offset: byte, width: .byte, UInt32(value))
    }
}
