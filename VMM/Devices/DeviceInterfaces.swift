/// The seams between the VMM's device models and the exit handler that drives them (issue 12). Device models are
/// plain Swift state machines: no platform, no system calls, no globals (the simulator runs several VMMs in one
/// process), so host tests drive them directly. The VMM keeps one `Machine`-like owner object per VM and routes
/// exits to these protocols. All protocols are class-bound: Embedded Swift allows existentials of class protocols only.

/// A device reached through port I/O. `size` is 1, 2 or 4; a read of a size or port the device does not decode
/// returns all ones (what an ISA bus floats to), a write is dropped.
public protocol PortIODevice: AnyObject {
    func portRead(_ port: UInt16, size: Int) -> UInt32
    func portWrite(_ port: UInt16, size: Int, value: UInt32)
}

/// A device reached through memory-mapped I/O. `offset` is relative to the start of the region the device was
/// registered for; `size` is 1, 2, 4 or 8.
public protocol MMIODevice: AnyObject {
    func mmioRead(offset: UInt64, size: Int) -> UInt64
    func mmioWrite(offset: UInt64, size: Int, value: UInt64)
}

/// A device with timers. Time is virtual nanoseconds since the VM was created, supplied by the VMM (which derives
/// it from the guest's TSC); devices never read a clock themselves, so tests and the simulator are deterministic.
public protocol TimedDevice: AnyObject {
    /// Brings the device's timers up to `now` (raising whatever interrupts fell due on their lines).
    func advance(to now: UInt64)
    /// The earliest time at which `advance` would change something, or nil when no timer is armed.
    var nextDeadline: UInt64? { get }
}

/// An interrupt input: ISA IRQ / IOAPIC pin `line`. Edge-triggered sources raise and lower (a pulse is
/// `setLevel(true)` then `setLevel(false)`); level-triggered sources hold the line high until serviced.
public protocol InterruptLines: AnyObject {
    func setLevel(line: Int, high: Bool)
}

/// Guest-physical memory as device models may touch it (DMA by virtio, firmware tables). Every access is checked
/// against the VM's RAM: `nil` / `false` when any byte of it lies outside.
public protocol GuestPhysicalMemory: AnyObject {
    var size: UInt64 { get }
    func read(_ address: UInt64, count: Int) -> [UInt8]?
    func write(_ address: UInt64, _ bytes: [UInt8]) -> Bool
    func load16(_ address: UInt64) -> UInt16?
    func load32(_ address: UInt64) -> UInt32?
    func load64(_ address: UInt64) -> UInt64?
    func store16(_ address: UInt64, _ value: UInt16) -> Bool
    func store32(_ address: UInt64, _ value: UInt32) -> Bool
    func store64(_ address: UInt64, _ value: UInt64) -> Bool
}
