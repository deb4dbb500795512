/// One function found on the bus, with what a driver needs to know before touching it.
public struct PCIFunction: Equatable, Sendable {
    public var address: PCIAddress
    public var vendor: UInt16
    public var device: UInt16
    /// Class, subclass, programming interface (bits 8..31 of the class register).
    public var classCode: UInt32
    public var bars: [PCIBAR]
    /// The firmware's interrupt line register (the legacy PIC/ISA number it routed INTx to; 0xff or 0: none) and the
    /// pin (1..4 = INTA..INTD, 0 none).
    public var interruptLine: UInt8
    public var interruptPin: UInt8

    public init(address: PCIAddress, vendor: UInt16, device: UInt16, classCode: UInt32, bars: [PCIBAR],
                interruptLine: UInt8, interruptPin: UInt8) {
        self.address = address
        self.vendor = vendor
        self.device = device
        self.classCode = classCode
        self.bars = bars
        self.interruptLine = interruptLine
        self.interruptPin = interruptPin
    }

    /// The line the driver waits on: INTx routed by the firmware to an interrupt line (nil when it has none).
    /// MSI will replace this (issue 13 §1); it is the one place that decides a device's interrupt.
    public var legacyInterrupt: UInt64? {
        guard interruptPin != 0, interruptLine != 0, interruptLine != 0xff else { return nil }
        return UInt64(interruptLine)
    }

    public var ids: String { PCIText.hex(UInt64(vendor), 4) + ":" + PCIText.hex(UInt64(device), 4) }

    public var description: String { "\(address) \(ids)" }
}
