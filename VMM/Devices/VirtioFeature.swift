/// Transport- and ring-level feature bits (virtio 1.2, §6). Device-type bits (0...23) live with each device.
public enum VirtioFeature {
    /// Descriptors may point to a table of descriptors (§2.7.5.3). Offered: Linux uses it for multi-segment requests.
    public static let ringIndirectDescriptors: UInt64 = 1 << 28
    /// used_event/avail_event suppression (§2.7.7). Not offered: the device interrupts after every batch unless
    /// the driver sets VIRTQ_AVAIL_F_NO_INTERRUPT.
    public static let ringEventIndex: UInt64 = 1 << 29
    /// A virtio 1.x device; a modern-only device refuses a driver that does not take it.
    public static let version1: UInt64 = 1 << 32
    public static let accessPlatform: UInt64 = 1 << 33
    public static let ringPacked: UInt64 = 1 << 34
    public static let ringReset: UInt64 = 1 << 40
}

/// device_status bits (§2.1).
public enum VirtioDeviceStatus {
    public static let acknowledge: UInt8 = 1
    public static let driver: UInt8 = 2
    public static let driverOK: UInt8 = 4
    public static let featuresOK: UInt8 = 8
    /// Set by the device when it hit an error it cannot recover from; only a reset clears it.
    public static let deviceNeedsReset: UInt8 = 64
    public static let failed: UInt8 = 128
}
