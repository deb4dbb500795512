/// A virtio device type (block, ...) behind a transport. The transport owns feature negotiation, status and the
/// queues; the device says what it offers and serves one descriptor chain at a time.
public protocol VirtioDevice: AnyObject {
    /// The virtio device ID (§5: 2 = block); the PCI device ID is 0x1040 plus it.
    var deviceID: UInt16 { get }
    /// The PCI class code the function shows (base class, subclass, programming interface).
    var pciClassCode: UInt32 { get }
    /// Device-type feature bits; the transport adds VIRTIO_F_VERSION_1 and VIRTIO_F_INDIRECT_DESC.
    var features: UInt64 { get }
    /// The maximum size of each queue (powers of two, at most 32768).
    var queueSizes: [UInt32] { get }
    /// The device-specific configuration structure as the driver reads it now (little-endian).
    var configuration: [UInt8] { get }
    /// A driver write into the device-specific configuration; false when those bytes are read-only (dropped).
    func writeConfiguration(offset: Int, bytes: [UInt8]) -> Bool
    /// The driver reset the device (device_status = 0).
    func reset()
    /// Serves one chain of queue `queue`: returns how many bytes it wrote into the chain's writable part. A chain
    /// the device cannot make sense of throws, which stops the device (DEVICE_NEEDS_RESET).
    func process(_ chain: VirtioDescriptorChain, queue: Int, memory: GuestPhysicalMemory) throws(VirtioError) -> UInt32
}
