import PCIBus
import Sim

/// A transitional virtio-blk device's legacy interface for the simulator: the registers of its I/O BAR (the
/// simulator's wide accesses arrive a byte at a time: a register acts when its last byte is written), one queue,
/// requests served from `disk` `completionDelay` ticks after the notify (so several are in flight), INTx as a level
/// on `irq` held until the ISR register is read. DMA goes straight to simulated physical memory, and only while
/// `busMastering()` says the function may master the bus: a completion due while it may not is held (retried
/// every `completionDelay`), as a device that buffers its work would; a reset drops held and scheduled work.
/// `staleDMA` counts DMA done for requests taken before the last reset-free bus-mastering stop, that is into a
/// queue a restarted driver may have handed back (the restart tests expect 0).
final class SimLegacyVirtioBlock: SimIODevice {
    let base: UInt16
    let irq: UInt64
    var disk: [UInt8]
    var completionDelay: UInt64 = 50
    let ports: [UInt16]
    private(set) var status: UInt8 = 0
    private(set) var queuePage: UInt32 = 0
    private(set) var driverFeatures: UInt32 = 0
    private(set) var served: [(type: UInt32, sector: UInt64, bytes: Int)] = []
    /// The most requests the device had taken but not completed at once.
    private(set) var maxOutstanding = 0
    private var outstanding = 0
    private var isr: UInt8 = 0
    private var lastAvail: UInt16 = 0
    private var usedIndex: UInt16 = 0
    private var latch = [UInt8](repeating: 0, count: 0x20)
    /// Whether the PCI function's command register allows bus mastering now.
    var busMastering: () -> Bool = { true }
    /// Bumped by a reset: work scheduled before it is dropped.
    private var generation = 0
    /// Completion attempts held because bus mastering was off (a dying driver's requests, typically).
    private(set) var heldWhileNotMastering = 0
    private(set) var staleDMA = 0
    private var heldGeneration: Int?
    static let queueSize: UInt16 = 128
    static let features: UInt32 = 1 << 9 // flush

    init(base: UInt16, irq: UInt64, sectors: Int) {
        self.base = base
        self.irq = irq
        disk = [UInt8](repeating: 0, count: sectors * 512)
        ports = (0..<0x40).map { base + UInt16($0) }
    }

    private func le(_ value: UInt64, _ byte: Int) -> UInt8 { UInt8(truncatingIfNeeded: value >> (8 * UInt64(byte))) }

    /// Held work the device could DMA for the moment bus mastering is back without a reset in between (checked
    /// at every register access too, so a driver that turns mastering on before resetting is always caught).
    private func noteStaleWindow() {
        if heldGeneration == generation, busMastering() { staleDMA += 1 }
    }

    func portIn(_ port: UInt16, machine: SimMachine) -> UInt8 {
        noteStaleWindow()
        let offset = Int(port - base)
        switch offset {
        case 0..<4: return le(UInt64(Self.features), offset)
        case 4..<8: return le(UInt64(driverFeatures), offset - 4)
        case 8..<12: return le(UInt64(queuePage), offset - 8)
        case 12..<14: return le(UInt64(Self.queueSize), offset - 12)
        case 18: return status
        case 19:
            let value = isr
            isr = 0
            machine.interrupts.setLevel(irq, asserted: false)
            return value
        case 20..<28: return le(UInt64(disk.count / 512), offset - 20)
        default: return latch.indices.contains(offset) ? latch[offset] : 0
        }
    }

    func portOut(_ port: UInt16, _ value: UInt8, machine: SimMachine) {
        noteStaleWindow()
        let offset = Int(port - base)
        guard offset < latch.count else { return }
        latch[offset] = value
        func word(_ at: Int, _ n: Int) -> UInt32 { (0..<n).reduce(0) { $0 | UInt32(latch[at + $1]) << (8 * UInt32($1)) } }
        switch offset {
        case 7: driverFeatures = word(4, 4)
        case 11: queuePage = word(8, 4)
        case 17: machine.schedule(after: 1, "virtio-blk notify") { self.takeAvailable($0) }
        case 18:
            status = value
            if value == 0 { reset(machine) }
        default: break
        }
    }

    private func reset(_ machine: SimMachine) {
        generation += 1
        heldGeneration = nil
        outstanding = 0
        queuePage = 0
        driverFeatures = 0
        lastAvail = 0
        usedIndex = 0
        isr = 0
        machine.interrupts.setLevel(irq, asserted: false)
    }

    var layout: (avail: UInt64, used: UInt64) {
        let q = UInt64(queuePage) << 12, n = UInt64(Self.queueSize)
        let avail = q + 16 * n
        return (avail, (avail + 6 + 2 * n + 4095) & ~4095)
    }

    private func takeAvailable(_ machine: SimMachine) {
        guard queuePage != 0, status & 4 != 0 else { return }
        let m = machine.memory
        let availIndex = UInt16(truncatingIfNeeded: (try? m.read64(layout.avail)).map { $0 >> 16 } ?? 0)
        while lastAvail != availIndex {
            let slot = layout.avail + 4 + 2 * (UInt64(lastAvail) % UInt64(Self.queueSize))
            let head = UInt16(try! m.read8(slot)) | UInt16(try! m.read8(slot + 1)) << 8
            lastAvail &+= 1
            outstanding += 1
            maxOutstanding = max(maxOutstanding, outstanding)
            let taken = generation
            machine.schedule(after: completionDelay, "virtio-blk complete") { self.complete(head, taken, $0) }
        }
    }

    private func complete(_ head: UInt16, _ taken: Int, _ machine: SimMachine) {
        guard taken == generation else { return }
        guard busMastering() else {
            heldWhileNotMastering += 1
            heldGeneration = taken
            machine.schedule(after: completionDelay, "virtio-blk held") { self.complete(head, taken, $0) }
            return
        }
        if heldGeneration == taken { staleDMA += 1 }
        let m = machine.memory
        let q = UInt64(queuePage) << 12
        var chain: [(address: UInt64, length: UInt32, writable: Bool)] = []
        var index = head
        while true {
            let d = q + 16 * UInt64(index)
            let word = try! m.read64(d + 8)
            chain.append((try! m.read64(d), UInt32(truncatingIfNeeded: word), word >> 32 & 2 != 0))
            guard word >> 32 & 1 != 0 else { break }
            index = UInt16(truncatingIfNeeded: word >> 48)
        }
        let header = try! m.read(16, at: chain[0].address)
        let type = (0..<4).reduce(UInt32(0)) { $0 | UInt32(header[$1]) << (8 * UInt32($1)) }
        let sector = (0..<8).reduce(UInt64(0)) { $0 | UInt64(header[8 + $1]) << (8 * UInt64($1)) }
        var position = Int(sector) * 512
        var result: UInt8 = 0
        var bytes = 0
        for piece in chain.dropFirst().dropLast() {
            let n = Int(piece.length)
            guard position + n <= disk.count else { result = 1; break }
            if type == 0 { try! m.write(Array(disk[position..<position + n]), at: piece.address) }
            if type == 1 { disk.replaceSubrange(position..<position + n, with: try! m.read(n, at: piece.address)) }
            position += n
            bytes += n
        }
        served.append((type, sector, bytes))
        try! m.write8(chain[chain.count - 1].address, type == 0 || type == 1 || type == 4 ? result : 2)
        let element = layout.used + 4 + 8 * (UInt64(usedIndex) % UInt64(Self.queueSize))
        try! m.write((0..<8).map { self.le(UInt64(head) | UInt64(bytes) << 32, $0) }, at: element)
        usedIndex &+= 1
        let usedWord = try! m.read64(layout.used)
        try! m.write64(layout.used, usedWord & ~(0xffff << 16) | UInt64(usedIndex) << 16)
        outstanding -= 1
        isr = 1
        machine.interrupts.setLevel(irq, asserted: true)
    }
}

extension SimLegacyVirtioBlock {
    static let ioBase: UInt16 = 0xc040
    static let irq: UInt64 = 20

    /// What the block boot tests plug into a simulated machine: a fake bus behind ports 0xcf8/0xcfc with a host
    /// bridge and a transitional virtio-blk function at 00:03.0 (I/O BAR at `ioBase`, INTx on `irq`), and this
    /// device model behind that BAR, mastering the bus only while the function's command register lets it.
    static func attach(to system: SimSystem, sectors: Int = 2048) -> (SimLegacyVirtioBlock, FakePCIBus.Function) {
        let bus = FakePCIBus()
        bus.add(PCIAddress(bus: 0, device: 0, function: 0), .init(vendor: 0x8086, device: 0x29c0))
        let function = FakePCIBus.Function(vendor: 0x1af4, device: 0x1001, classCode: 0x01_00_00)
        function.ioBAR(0, base: UInt32(ioBase), size: 0x40)
        function.interrupt(line: UInt8(irq), pin: 1)
        bus.add(PCIAddress(bus: 0, device: 3, function: 0), function)
        system.machine.attach(SimPCIConfigPorts(bus: bus))
        let device = SimLegacyVirtioBlock(base: ioBase, irq: irq, sectors: sectors)
        device.busMastering = { function.get16(4) & PCIConfig.commandBusMaster != 0 }
        system.machine.attach(device)
        return (device, function)
    }
}
