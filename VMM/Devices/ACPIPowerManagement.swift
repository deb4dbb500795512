/// The ACPI fixed-hardware power-management registers the guest's FADT names (ACPI 6.5, 4.8.3): the PM1a event
/// block (PM1_STS then PM1_EN, 16 bits each) and the PM1a control block (PM1_CNT, 16 bits), plus the FADT's reset
/// register. Linux powers off by writing SLP_TYP = the DSDT's \_S5 value together with SLP_EN; the device then
/// reports `powerOffRequested`, and a write of the reset value to the reset port reports `resetRequested`: the VMM
/// polls both after each port write and ends or restarts the VM. There is no SMI command port (the FADT's SMI_CMD
/// is 0), so the machine is always in ACPI mode and SCI_EN reads as set.
///
/// Accesses of 1, 2 or 4 bytes may start at any port; each byte is decoded on its own (a 16-bit PM1_EN read is
/// two bytes of PM1_EN, a 32-bit read at the event block is PM1_STS | PM1_EN << 16), bytes at ports the device does
/// not decode read as 0xff and their writes are dropped.
public final class ACPIPowerManagement: PortIODevice {
    /// Where the registers are and which values they act on; the ACPI tables are built from the same layout.
    public struct Layout: Equatable {
        public static let eventBlockLength: UInt16 = 4
        public static let controlBlockLength: UInt16 = 2

        public var eventBlock: UInt16
        public var controlBlock: UInt16
        /// The SCI's ISA IRQ (FADT SCI_INT; MADT overrides it to level, active high).
        public var sciLine: Int
        /// The SLP_TYP value of S5 (soft off), as the DSDT's \_S5 package gives it.
        public var s5SleepType: UInt8
        /// FADT RESET_REG (system I/O, 8 bits) and RESET_VALUE. 0xcf9 is the PC's reset control register; a bus
        /// that also has PCI configuration mechanism #1 must send 1-byte accesses at 0xcf9 here (0xcf8 is 32-bit).
        public var resetPort: UInt16
        public var resetValue: UInt8

        public init(eventBlock: UInt16 = 0x600, controlBlock: UInt16 = 0x604, sciLine: Int = 9, s5SleepType: UInt8 = 5,
                    resetPort: UInt16 = 0xcf9, resetValue: UInt8 = 0x06) {
            self.eventBlock = eventBlock
            self.controlBlock = controlBlock
            self.sciLine = sciLine
            self.s5SleepType = s5SleepType
            self.resetPort = resetPort
            self.resetValue = resetValue
        }
    }

    // PM1_STS / PM1_EN bits (the status bits are write-1-to-clear).
    public static let timerStatus: UInt16 = 1 << 0
    public static let globalStatus: UInt16 = 1 << 5
    public static let powerButtonStatus: UInt16 = 1 << 8
    public static let sleepButtonStatus: UInt16 = 1 << 9
    public static let rtcStatus: UInt16 = 1 << 10
    public static let wakeStatus: UInt16 = 1 << 15
    /// The status bits that have an enable bit and raise the SCI.
    public static let sciEvents: UInt16 = timerStatus | globalStatus | powerButtonStatus | sleepButtonStatus | rtcStatus
    // PM1_CNT bits.
    public static let sciEnable: UInt16 = 1 << 0
    public static let busMasterReload: UInt16 = 1 << 1
    public static let sleepTypeShift: UInt16 = 10
    public static let sleepTypeMask: UInt16 = 0x7 << 10
    public static let sleepEnable: UInt16 = 1 << 13

    public let layout: Layout
    private let interrupts: (any InterruptLines)?

    public private(set) var status: UInt16 = 0
    public private(set) var enable: UInt16 = 0
    /// PM1_CNT as it reads: SCI_EN always set, SLP_EN (write-only) never.
    public private(set) var control: UInt16 = ACPIPowerManagement.sciEnable
    public private(set) var powerOffRequested = false
    public private(set) var resetRequested = false
    /// The SLP_TYP of the last sleep request that was not S5 (the tables offer no other state), for the VMM to report.
    public private(set) var unsupportedSleepType: UInt8?
    public private(set) var sciRaised = false
    /// PM1_CNT as the current access writes it, SLP_EN included, until `actOnControlWrite` takes it.
    private var pendingControl: UInt16 = ACPIPowerManagement.sciEnable

    /// `interrupts` receives the SCI (level: high while an enabled event is pending).
    public init(layout: Layout = Layout(), interrupts: (any InterruptLines)? = nil) {
        self.layout = layout
        self.interrupts = interrupts
    }

    /// Back to the power-on state (after the VMM has acted on a reset request).
    public func reset() {
        status = 0
        enable = 0
        control = Self.sciEnable
        pendingControl = control
        powerOffRequested = false
        resetRequested = false
        unsupportedSleepType = nil
        updateSCI()
    }

    /// The fixed power button: PWRBTN_STS, and the SCI if the guest enabled it.
    public func pressPowerButton() {
        status |= Self.powerButtonStatus
        updateSCI()
    }

    public func decodes(_ port: UInt16) -> Bool { register(at: Int(port)) != nil }

    public func portRead(_ port: UInt16, size: Int) -> UInt32 {
        guard size == 1 || size == 2 || size == 4 else { return UInt32.max }
        var value: UInt32 = 0
        for i in 0..<size {
            value |= UInt32(readByte(Int(port) + i)) << (8 * UInt32(i))
        }
        return value
    }

    public func portWrite(_ port: UInt16, size: Int, value: UInt32) {
        guard size == 1 || size == 2 || size == 4 else { return }
        var controlWritten = false
        for i in 0..<size {
            let byte = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i)))
            controlWritten = writeByte(Int(port) + i, byte) || controlWritten
        }
        // SLP_EN and SLP_TYP share PM1_CNT's high byte: act once the whole access is in.
        if controlWritten { actOnControlWrite() }
        updateSCI()
    }

    // MARK: - bytes

    private enum Register {
        case status(byte: Int), enable(byte: Int), control(byte: Int), reset
    }

    /// `port` may lie past 0xffff (the tail of an access at the top of the port space): no register is there.
    private func register(at port: Int) -> Register? {
        let eventOffset = port - Int(layout.eventBlock)
        if eventOffset >= 0, eventOffset < Int(Layout.eventBlockLength) {
            return eventOffset < 2 ? .status(byte: eventOffset) : .enable(byte: eventOffset - 2)
        }
        let controlOffset = port - Int(layout.controlBlock)
        if controlOffset >= 0, controlOffset < Int(Layout.controlBlockLength) { return .control(byte: controlOffset) }
        if port == Int(layout.resetPort) { return .reset }
        return nil
    }

    private func readByte(_ port: Int) -> UInt8 {
        switch register(at: port) {
        case .status(let byte): return UInt8(truncatingIfNeeded: status >> (8 * UInt16(byte)))
        case .enable(let byte): return UInt8(truncatingIfNeeded: enable >> (8 * UInt16(byte)))
        case .control(let byte): return UInt8(truncatingIfNeeded: control >> (8 * UInt16(byte)))
        case .reset: return 0
        case nil: return 0xff
        }
    }

    /// Whether the byte went to PM1_CNT.
    private func writeByte(_ port: Int, _ byte: UInt8) -> Bool {
        switch register(at: port) {
        case .status(let index):
            status &= ~(UInt16(byte) << (8 * UInt16(index)))
        case .enable(let index):
            let shift = 8 * UInt16(index)
            enable = (enable & ~(0xff << shift)) | (UInt16(byte) << shift)
        case .control(let index):
            let shift = 8 * UInt16(index)
            pendingControl = (pendingControl & ~(0xff << shift)) | (UInt16(byte) << shift)
            return true
        case .reset:
            if byte == layout.resetValue { resetRequested = true }
        case nil:
            break
        }
        return false
    }

    private func actOnControlWrite() {
        let written = pendingControl
        let sleepType = UInt8((written & Self.sleepTypeMask) >> Self.sleepTypeShift)
        // SCI_EN stays set (no legacy mode to return to); SLP_EN is write-only.
        control = (written & (Self.busMasterReload | Self.sleepTypeMask)) | Self.sciEnable
        pendingControl = control
        guard written & Self.sleepEnable != 0 else { return }
        if sleepType == layout.s5SleepType {
            powerOffRequested = true
        } else {
            unsupportedSleepType = sleepType
        }
    }

    private func updateSCI() {
        let raised = control & Self.sciEnable != 0 && status & enable & Self.sciEvents != 0
        guard raised != sciRaised else { return }
        sciRaised = raised
        interrupts?.setLevel(line: layout.sciLine, high: raised)
    }
}
