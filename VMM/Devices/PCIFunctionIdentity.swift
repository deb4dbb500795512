/// The read-only identity a PCI function shows in its configuration header: who made it, what it is, and which
/// INTx pin (if any) it drives. Fixed by the device model; the guest cannot change any of it.
public struct PCIFunctionIdentity: Equatable {
    public var vendorID: UInt16
    public var deviceID: UInt16
    public var revision: UInt8
    /// Base class, subclass and programming interface as one 24-bit value (0x06_00_00 is a host bridge).
    public var classCode: UInt32
    public var subsystemVendorID: UInt16
    public var subsystemID: UInt16
    /// 0 for no interrupt, 1...4 for INTA#...INTD#.
    public var interruptPin: UInt8

    public init(vendorID: UInt16, deviceID: UInt16, revision: UInt8, classCode: UInt32,
                subsystemVendorID: UInt16, subsystemID: UInt16, interruptPin: UInt8) {
        self.vendorID = vendorID
        self.deviceID = deviceID
        self.revision = revision
        self.classCode = classCode & 0xff_ffff
        self.subsystemVendorID = subsystemVendorID
        self.subsystemID = subsystemID
        self.interruptPin = interruptPin
    }
}
