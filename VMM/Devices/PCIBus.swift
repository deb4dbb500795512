/// Bus 0 of the VMM's PCI hierarchy and its configuration mechanism #1 (PCI Local Bus 3.0, §3.2.2.3.2): the
/// guest writes a dword address to 0xCF8 (bit 31 enable, bus 23:16, device 15:11, function 10:8, register 7:2)
/// and then reads or writes 1, 2 or 4 bytes at 0xCFC...0xCFF, the low port bits picking the byte in the dword.
/// Absent devices and functions read as all ones (master abort) and ignore writes. There is one bus and no
/// bridges; every function is single-function (function 0 of its slot).
///
/// After every configuration write the bus recomputes which BAR decodes where, so the VMM can ask it which
/// device owns an MMIO address or I/O port (`mmioDevice(at:)`, `ioDevice(at:)`). A BAR decodes only while its
/// space is enabled in the function's command register.
public final class PCIBus: PortIODevice {
    public static let configurationAddressPort: UInt16 = 0xcf8
    public static let configurationDataPort: UInt16 = 0xcfc
    public static let slotCount = 32
    /// Bit 31 turns an address into a configuration cycle; bits 30:24 and 1:0 are reserved (read as zero).
    public static let enableBit: UInt32 = 1 << 31
    static let addressMask: UInt32 = 0x80ff_fffc

    public let interruptRouter: PCIInterruptRouter
    public let hostBridge = PCIHostBridge()
    private var slots: [PCIFunction?]
    /// The last value written to 0xCF8.
    public private(set) var configurationAddress: UInt32 = 0

    /// A BAR that decodes now, with the handler behind it.
    public struct MappedRegion {
        public let slot: Int
        public let region: PCIBARRegion
        let memory: MMIODevice?
        let port: PortIODevice?
    }
    public private(set) var mappedRegions: [MappedRegion] = []

    public init(interrupts: InterruptLines, pirqLines: [Int] = PCIInterruptRouter.legacyPIRQLines) {
        interruptRouter = PCIInterruptRouter(lines: interrupts, pirqLines: pirqLines)
        slots = [PCIFunction?](repeating: nil, count: Self.slotCount)
        slots[0] = hostBridge
    }

    /// Places `function` at slot `slot` (1...31), routes its INTx pin and writes the routed line into its
    /// interrupt line register, as firmware would.
    public func attach(_ function: PCIFunction, slot: Int) throws(PCIConfigurationError) {
        guard slot >= 1, slot < Self.slotCount else { throw .slotOutOfRange(slot) }
        guard slots[slot] == nil else { throw .slotOccupied(slot) }
        slots[slot] = function
        let pinNumber = function.configurationSpace.identity.interruptPin
        if let pin = interruptRouter.pin(slot: slot, pin: pinNumber) {
            function.configurationSpace.setInterruptLine(UInt8(truncatingIfNeeded: pin.line))
            function.connect(interrupt: pin)
        }
        rebuildRegions()
    }

    public func function(slot: Int) -> PCIFunction? {
        guard slot >= 0, slot < Self.slotCount else { return nil }
        return slots[slot]
    }

    /// Whether an access belongs to the configuration mechanism: a dword at 0xCF8, or an access within
    /// 0xCFC...0xCFF. Byte and word accesses to 0xCF8...0xCFB are other devices' (0xCF9 is the chipset's reset
    /// control register), so the VMM routes those elsewhere.
    public static func claims(port: UInt16, size: Int) -> Bool {
        if port == configurationAddressPort { return size == 4 }
        guard port >= configurationDataPort, port <= configurationDataPort + 3 else { return false }
        return (size == 1 || size == 2 || size == 4) && Int(port - configurationDataPort) + size <= 4
    }

    // MARK: - PortIODevice

    public func portRead(_ port: UInt16, size: Int) -> UInt32 {
        guard Self.claims(port: port, size: size) else { return PCIConfigurationSpace.allOnes(size: size) }
        if port == Self.configurationAddressPort { return configurationAddress }
        guard let target = addressedFunction() else { return PCIConfigurationSpace.allOnes(size: size) }
        let offset = Int(configurationAddress & 0xfc) + Int(port - Self.configurationDataPort)
        return target.readConfiguration(offset: offset, size: size)
    }

    public func portWrite(_ port: UInt16, size: Int, value: UInt32) {
        guard Self.claims(port: port, size: size) else { return }
        if port == Self.configurationAddressPort {
            configurationAddress = value & Self.addressMask
            return
        }
        guard let target = addressedFunction() else { return }
        let offset = Int(configurationAddress & 0xfc) + Int(port - Self.configurationDataPort)
        target.writeConfiguration(offset: offset, size: size, value: value)
        rebuildRegions()
    }

    /// The function 0xCF8 selects, or nil when it names no configuration cycle or nothing is there.
    private func addressedFunction() -> PCIFunction? {
        let address = configurationAddress
        guard address & Self.enableBit != 0 else { return nil }
        let bus = (address >> 16) & 0xff, device = Int((address >> 11) & 0x1f), function = (address >> 8) & 0x7
        guard bus == 0, function == 0 else { return nil }
        return slots[device]
    }

    // MARK: - Direct configuration access (the VMM as firmware, tests)

    public func readConfiguration(slot: Int, offset: Int, size: Int) -> UInt32 {
        guard let target = function(slot: slot) else { return PCIConfigurationSpace.allOnes(size: size) }
        return target.readConfiguration(offset: offset, size: size)
    }

    public func writeConfiguration(slot: Int, offset: Int, size: Int, value: UInt32) {
        guard let target = function(slot: slot) else { return }
        target.writeConfiguration(offset: offset, size: size, value: value)
        rebuildRegions()
    }

    // MARK: - The BAR map

    /// The memory BAR containing `address` and the offset into it. When a guest programs overlapping BARs,
    /// the lowest slot wins (undefined on real hardware; deterministic here).
    public func mmioDevice(at address: UInt64) -> (device: MMIODevice, offset: UInt64)? {
        for mapped in mappedRegions where mapped.region.kind != .io && mapped.region.contains(address) {
            if let device = mapped.memory { return (device, address &- mapped.region.base) }
        }
        return nil
    }

    /// The I/O BAR containing `port` and the offset into it.
    public func ioDevice(at port: UInt16) -> (device: PortIODevice, offset: UInt16)? {
        for mapped in mappedRegions where mapped.region.kind == .io && mapped.region.contains(UInt64(port)) {
            if let device = mapped.port { return (device, UInt16(truncatingIfNeeded: UInt64(port) &- mapped.region.base)) }
        }
        return nil
    }

    private func rebuildRegions() {
        var regions: [MappedRegion] = []
        for slot in 0..<Self.slotCount {
            guard let function = slots[slot] else { continue }
            for bar in 0..<PCIConfigurationSpace.barCount {
                guard let region = function.configurationSpace.decodedRegion(bar) else { continue }
                let isIO = region.kind == .io
                regions.append(MappedRegion(slot: slot, region: region,
                                            memory: isIO ? nil : function.memoryHandler(bar: bar),
                                            port: isIO ? function.portHandler(bar: bar) : nil))
            }
        }
        mappedRegions = regions
    }
}
