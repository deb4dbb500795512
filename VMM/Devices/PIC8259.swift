/// The PC's two 8259A interrupt controllers: master at ports 0x20/0x21 (ISA IRQ 0-7), slave at 0xa0/0xa1 (IRQ 8-15)
/// cascaded into the master's IR2, and the chipset's edge/level control registers (ELCR) at 0x4d0/0x4d1. The INT
/// output goes to the local APIC's LINT0 (and IOAPIC pin 0); the CPU's INTA cycle is `acknowledge()`.
public final class PIC8259: PortIODevice {
    public static let masterCommand: UInt16 = 0x20
    public static let masterData: UInt16 = 0x21
    public static let slaveCommand: UInt16 = 0xa0
    public static let slaveData: UInt16 = 0xa1
    public static let masterELCR: UInt16 = 0x4d0
    public static let slaveELCR: UInt16 = 0x4d1
    public static let ports: [UInt16] = [0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1]
    /// The master input the slave's INT output drives.
    public static let cascadeLine = 2

    private(set) var master = PIC8259Chip(elcrWritable: 0xf8)
    private(set) var slave = PIC8259Chip(elcrWritable: 0xde)
    public var errors = DeviceErrorLog()

    public init() {}

    /// Input `irq` (ISA IRQ 0-15) to `high`. IRQ 2 is the cascade, driven by the slave alone; driving it from
    /// outside is refused and recorded.
    public func setLevel(irq: Int, high: Bool) {
        guard irq >= 0 && irq < 16 && irq != Self.cascadeLine else { errors.record(.noSuchLine(irq)); return }
        if irq < 8 { master.setInput(irq, high: high) } else { slave.setInput(irq - 8, high: high) }
        propagateCascade()
    }

    /// Whether the master's INT output is asserted.
    public var interruptOutput: Bool { master.pendingRequest() != nil }

    /// The vector the next INTA cycle would return, or nil while INT is not asserted. No state changes.
    public func pendingVector() -> UInt8? {
        guard let line = master.pendingRequest() else { return nil }
        guard slaveAttached(line) else { return master.vectorBase | line }
        return slave.vectorBase | (slave.pendingRequest() ?? 7)
    }

    /// The INTA cycle: the vector of the winning request, now in service (unless in auto-EOI mode). With nothing
    /// to deliver the master answers with its IR7 vector and sets no in-service bit (spurious IRQ 7); a cascade
    /// request the slave no longer has gives the slave's IR7 vector with only the master's IR2 in service
    /// (spurious IRQ 15), as on the hardware.
    public func acknowledge() -> UInt8 {
        defer { propagateCascade() }
        guard let line = master.pendingRequest() else { return master.vectorBase | 7 }
        master.acknowledge(line)
        guard slaveAttached(line) else { return master.vectorBase | line }
        guard let slaveLine = slave.pendingRequest() else { return slave.vectorBase | 7 }
        slave.acknowledge(slaveLine)
        return slave.vectorBase | slaveLine
    }

    /// In-service, request and mask registers as 16 bits (slave in the high byte), for the VMM's diagnostics.
    public var inService: UInt16 { UInt16(slave.isr) << 8 | UInt16(master.isr) }
    public var requests: UInt16 { UInt16(slave.irr) << 8 | UInt16(master.irr) }
    public var masks: UInt16 { UInt16(slave.imr) << 8 | UInt16(master.imr) }

    private func slaveAttached(_ line: UInt8) -> Bool {
        Int(line) == Self.cascadeLine && !master.singleMode && master.cascade & (1 << line) != 0
    }

    /// The slave's INT output is the master's IR2 input. While the slave has a request it re-latches IR2 (as KVM's
    /// model does), so a second slave request that keeps INT high is not lost when the first one's INTA clears
    /// the master's edge latch.
    private func propagateCascade() {
        master.setInput(Self.cascadeLine, high: false)
        if slave.pendingRequest() != nil { master.setInput(Self.cascadeLine, high: true) }
    }

    // MARK: PortIODevice

    public func portRead(_ port: UInt16, size: Int) -> UInt32 {
        guard size == 1, Self.ports.contains(port) else {
            errors.record(.unsupportedAccess(.pic, offset: UInt64(port), size: size, write: false))
            return allOnes(size)
        }
        defer { propagateCascade() }
        switch port {
        case Self.masterCommand: return UInt32(master.readCommand())
        case Self.masterData: return UInt32(master.readData())
        case Self.slaveCommand: return UInt32(slave.readCommand())
        case Self.slaveData: return UInt32(slave.readData())
        case Self.masterELCR: return UInt32(master.elcr)
        default: return UInt32(slave.elcr)
        }
    }

    public func portWrite(_ port: UInt16, size: Int, value: UInt32) {
        guard size == 1, Self.ports.contains(port) else {
            errors.record(.unsupportedAccess(.pic, offset: UInt64(port), size: size, write: true))
            return
        }
        let byte = UInt8(truncatingIfNeeded: value)
        var error: DeviceProgrammingError?
        switch port {
        case Self.masterCommand: error = master.writeCommand(byte)
        case Self.masterData: error = master.writeData(byte)
        case Self.slaveCommand: error = slave.writeCommand(byte)
        case Self.slaveData:
            let icw3 = slave.initialization == .icw3
            error = slave.writeData(byte)
            // The slave answers the cascade address 2 only (the master's IR2 is where it is wired).
            if icw3 && byte & 7 != UInt8(Self.cascadeLine) { error = .unsupportedCommand(.pic, value: byte) }
        case Self.masterELCR: master.setELCR(byte)
        default: slave.setELCR(byte)
        }
        if let error { errors.record(error) }
        propagateCascade()
    }
}

/// What an undecoded read of `size` bytes floats to on the ISA bus.
func allOnes(_ size: Int) -> UInt32 {
    size >= 4 || size <= 0 ? 0xffff_ffff : (UInt32(1) << UInt32(size * 8)) &- 1
}
