import XCTest
@testable import DeviceModels

/// A guest driver that does what Linux's virtio_pci and virtio_blk do, through the same ports and MMIO the
/// VMM would route: enumerate bus 0 through 0xCF8/0xCFC, size and program BAR 4, walk the capability list,
/// run the status handshake, set up queue 0 and submit block requests.
final class VirtioTestDriver {
    let bus: PCIBus
    let memory: VirtioTestMemory


    // Guest-physical layout of the rings and buffers.
    static let descriptorTable: UInt64 = 0x1_0000
    static let availableRing: UInt64 = 0x1_1000
    static let usedRing: UInt64 = 0x1_2000
    static let indirectTables: UInt64 = 0x1_3000
    static let headers: UInt64 = 0x2_0000
    static let statuses: UInt64 = 0x3_0000
    static let data: UInt64 = 0x4_0000
    static let barAddress: UInt64 = 0xfe00_0000

    var slot = 0
    var common: UInt64 = 0
    var isr: UInt64 = 0
    var deviceConfiguration: UInt64 = 0
    var notifyBase: UInt64 = 0
    var notifyMultiplier: UInt64 = 0
    var queueSize: UInt16 = 0
    var availableIndex: UInt16 = 0
    var lastUsedIndex: UInt16 = 0
    var nextDescriptor: UInt16 = 0

    init(bus: PCIBus, memory: VirtioTestMemory) {
        self.bus = bus
        self.memory = memory
    }

    private var configuration: PCITestConfigurationAccess { PCITestConfigurationAccess(bus: bus) }
    func configRead(slot: Int, offset: Int, size: Int) -> UInt32 { configuration.configRead(slot: slot, offset: offset, size: size) }
    func configWrite(slot: Int, offset: Int, size: Int, value: UInt32) {
        configuration.configWrite(slot: slot, offset: offset, size: size, value: value)
    }
    func enumerate() -> [Int] { configuration.enumerate() }
    func sizeBAR(slot: Int, bar: Int) -> (size: UInt64, is64: Bool, isIO: Bool) { configuration.sizeBAR(slot: slot, bar: bar) }
    func capabilities(slot: Int) -> [PCITestConfigurationAccess.Capability] { configuration.capabilities(slot: slot) }

    // MARK: MMIO as the VMM routes it

    func read(_ address: UInt64, size: Int) -> UInt64 {
        guard let (device, offset) = bus.mmioDevice(at: address) else { return UInt64.max >> (64 - 8 * UInt64(size)) }
        return device.mmioRead(offset: offset, size: size)
    }

    func write(_ address: UInt64, size: Int, _ value: UInt64) {
        guard let (device, offset) = bus.mmioDevice(at: address) else { return }
        device.mmioWrite(offset: offset, size: size, value: value)
    }

    var status: UInt8 { UInt8(read(common + 0x14, size: 1)) }
    func setStatus(_ value: UInt8) { write(common + 0x14, size: 1, UInt64(value)) }

    /// Finds the first virtio block function, sizes and programs BAR 4, enables memory and bus mastering and
    /// reads the capabilities; returns false if anything a Linux driver needs is missing.
    func findDevice() -> Bool {
        guard let found = enumerate().first(where: {
            configRead(slot: $0, offset: 0, size: 2) == 0x1af4 && configRead(slot: $0, offset: 2, size: 2) == 0x1042
        }) else { return false }
        slot = found
        let (size, is64, _) = sizeBAR(slot: slot, bar: 4)
        guard size == 0x4000, is64 else { return false }
        configWrite(slot: slot, offset: 0x20, size: 4, value: UInt32(truncatingIfNeeded: Self.barAddress))
        configWrite(slot: slot, offset: 0x24, size: 4, value: UInt32(truncatingIfNeeded: Self.barAddress >> 32))
        let command = configRead(slot: slot, offset: 4, size: 2)
        configWrite(slot: slot, offset: 4, size: 2, value: command | 0x2 | 0x4)
        let caps = capabilities(slot: slot)
        func base(_ type: UInt8) -> PCITestConfigurationAccess.Capability? { caps.first { $0.type == type && $0.bar == 4 } }
        guard let commonCap = base(1), let notifyCap = base(2), let isrCap = base(3), let deviceCap = base(4) else {
            return false
        }
        common = Self.barAddress + UInt64(commonCap.offset)
        isr = Self.barAddress + UInt64(isrCap.offset)
        deviceConfiguration = Self.barAddress + UInt64(deviceCap.offset)
        notifyBase = Self.barAddress + UInt64(notifyCap.offset)
        notifyMultiplier = UInt64(notifyCap.multiplier)
        return true
    }

    /// Reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK; returns the device's feature bits, or nil if the
    /// device refused FEATURES_OK.
    func negotiate(accepting wanted: (UInt64) -> UInt64 = { $0 }) -> UInt64? {
        setStatus(0)
        guard status == 0 else { return nil }
        setStatus(1)
        setStatus(1 | 2)
        write(common + 0x00, size: 4, 0)
        var offered = read(common + 0x04, size: 4)
        write(common + 0x00, size: 4, 1)
        offered |= read(common + 0x04, size: 4) << 32
        let accepted = wanted(offered)
        write(common + 0x08, size: 4, 0)
        write(common + 0x0c, size: 4, accepted & 0xffff_ffff)
        write(common + 0x08, size: 4, 1)
        write(common + 0x0c, size: 4, accepted >> 32)
        setStatus(1 | 2 | 8)
        return status & 8 != 0 ? offered : nil
    }

    /// Queue 0 at the fixed layout, with Linux's two 32-bit halves per address, then queue_enable.
    func setUpQueue(size wanted: UInt16? = nil) {
        write(common + 0x16, size: 2, 0)
        let maximum = UInt16(read(common + 0x18, size: 2))
        queueSize = wanted ?? maximum
        write(common + 0x18, size: 2, UInt64(queueSize))
        for (field, address) in [(0x20, Self.descriptorTable), (0x28, Self.availableRing), (0x30, Self.usedRing)] {
            write(common + UInt64(field), size: 4, address & 0xffff_ffff)
            write(common + UInt64(field) + 4, size: 4, address >> 32)
        }
        write(common + 0x1c, size: 2, 1)
        availableIndex = 0
        lastUsedIndex = 0
        nextDescriptor = 0
        memory.poke(Self.availableRing, [UInt8](repeating: 0, count: 6 + 2 * Int(queueSize)))
        memory.poke(Self.usedRing, [UInt8](repeating: 0, count: 6 + 8 * Int(queueSize)))
    }

    func driverOK() { setStatus(1 | 2 | 8 | 4) }

    /// Everything from enumeration to DRIVER_OK with the features Linux's virtio_blk would take.
    func probe() -> Bool {
        guard findDevice(), negotiate() != nil else { return false }
        setUpQueue()
        driverOK()
        return status == 1 | 2 | 4 | 8
    }

    // MARK: Requests

    /// Writes `chain` into the descriptor table from the next free slot, links it and makes it available.
    @discardableResult
    func submit(_ chain: [VirtioTestDescriptor]) -> UInt16 {
        let head = nextDescriptor
        for (i, var descriptor) in chain.enumerated() {
            let index = (nextDescriptor + UInt16(i)) % queueSize
            if i + 1 < chain.count {
                descriptor.flags |= VirtioTestDescriptor.next
                descriptor.next = (index + 1) % queueSize
            }
            memory.poke(Self.descriptorTable + 16 * UInt64(index), descriptor.bytes)
        }
        nextDescriptor = (nextDescriptor + UInt16(chain.count)) % queueSize
        makeAvailable(head: head)
        return head
    }

    func makeAvailable(head: UInt16) {
        memory.poke16(Self.availableRing + 4 + 2 * UInt64(availableIndex % queueSize), head)
        availableIndex &+= 1
        memory.poke16(Self.availableRing + 2, availableIndex)
    }

    func kick(queue: UInt16 = 0) {
        write(notifyBase + UInt64(queue) * notifyMultiplier, size: 2, UInt64(queue))
    }

    /// Used-ring entries the device added since the last call.
    func takeUsed() -> [(id: UInt32, length: UInt32)] {
        var entries: [(id: UInt32, length: UInt32)] = []
        let deviceIndex = memory.peek16(Self.usedRing + 2)
        while lastUsedIndex != deviceIndex {
            let entry = Self.usedRing + 4 + 8 * UInt64(lastUsedIndex % queueSize)
            entries.append((memory.peek32(entry), memory.peek32(entry + 4)))
            lastUsedIndex &+= 1
        }
        return entries
    }

    /// A virtio-blk request in the usual three parts: header, data, status.
    func blockRequest(type: UInt32, sector: UInt64, dataLength: Int, deviceWritesData: Bool, slot: Int = 0,
                      data: [UInt8] = []) -> [VirtioTestDescriptor] {
        let header = Self.headers + 16 * UInt64(slot)
        memory.poke32(header, type)
        memory.poke32(header + 4, 0)
        memory.poke64(header + 8, sector)
        let buffer = Self.data + 0x1_0000 * UInt64(slot)
        if !data.isEmpty { memory.poke(buffer, data) }
        let status = Self.statuses + UInt64(slot)
        memory.poke(status, [0xee])
        var chain = [VirtioTestDescriptor(address: header, length: 16, flags: 0)]
        if dataLength > 0 {
            chain.append(VirtioTestDescriptor(address: buffer, length: UInt32(dataLength),
                                              flags: deviceWritesData ? VirtioTestDescriptor.write : 0))
        }
        chain.append(VirtioTestDescriptor(address: status, length: 1, flags: VirtioTestDescriptor.write))
        return chain
    }

    func statusByte(slot: Int = 0) -> UInt8 { memory.peek(Self.statuses + UInt64(slot), 1)[0] }
    func dataBytes(slot: Int = 0, count: Int) -> [UInt8] { memory.peek(Self.data + 0x1_0000 * UInt64(slot), count) }
}

/// A block device on a fresh bus at slot 1, with a disk image whose sector N is filled with byte N.
final class VirtioTestMachine {
    static let sectors = 64
    let lines = PCITestInterruptLines()
    let memory = VirtioTestMemory(size: 1 << 20)
    let bus: PCIBus
    let store: VirtioBlockMemoryStore
    let block: VirtioBlock
    let function: VirtioPCIFunction
    let driver: VirtioTestDriver

    init(readOnly: Bool = false, slot: Int = 1) throws {
        bus = PCIBus(interrupts: lines)
        var image: [UInt8] = []
        for sector in 0..<Self.sectors { image += [UInt8](repeating: UInt8(sector), count: 512) }
        store = VirtioBlockMemoryStore(image: image, readOnly: readOnly)
        block = VirtioBlock(store: store, serial: "disk-0")
        function = try VirtioPCIFunction(device: block, memory: memory)
        try bus.attach(function, slot: slot)
        driver = VirtioTestDriver(bus: bus, memory: memory)
    }

    /// The line slot 1's INTA# is routed to (PIRQB: ISA IRQ 10).
    var line: Int { bus.interruptRouter.line(slot: 1, pin: 1)! }
}
