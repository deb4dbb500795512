/// A function on the VMM's PCI bus: its configuration space and the register blocks its BARs lead to.
/// The defaults suit a function whose configuration space has no side effects; a function with registers that
/// act on access (virtio's configuration-access window, the INTx disable bit) overrides the access methods.
public protocol PCIFunction: AnyObject {
    var configurationSpace: PCIConfigurationSpace { get }
    /// A configuration read of 1, 2 or 4 bytes (the bus keeps the access inside one dword).
    func readConfiguration(offset: Int, size: Int) -> UInt32
    func writeConfiguration(offset: Int, size: Int, value: UInt32)
    /// The device behind memory BAR `bar`, reached with offsets relative to the BAR's base.
    func memoryHandler(bar: Int) -> MMIODevice?
    /// The device behind I/O BAR `bar`; its `port` argument is the offset from the BAR's base.
    func portHandler(bar: Int) -> PortIODevice?
    /// Called once when the bus places the function: the pin its INTx output drives.
    func connect(interrupt: PCIInterruptPin)
}

extension PCIFunction {
    public func readConfiguration(offset: Int, size: Int) -> UInt32 {
        configurationSpace.read(offset: offset, size: size)
    }
    public func writeConfiguration(offset: Int, size: Int, value: UInt32) {
        configurationSpace.write(offset: offset, size: size, value: value)
    }
    public func memoryHandler(bar: Int) -> MMIODevice? { nil }
    public func portHandler(bar: Int) -> PortIODevice? { nil }
    public func connect(interrupt: PCIInterruptPin) {}
}
