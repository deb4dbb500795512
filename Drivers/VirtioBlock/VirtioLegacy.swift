/// The legacy (virtio 0.9.5) interface of a transitional virtio PCI function, in its I/O BAR 0. Registers wider
/// than a byte must be accessed at their width (QEMU decodes the offset, not the bytes).
enum VirtioLegacy {
    static let deviceFeatures: UInt16 = 0     // u32, read
    static let driverFeatures: UInt16 = 4     // u32
    static let queueAddress: UInt16 = 8       // u32: physical page number of the queue
    static let queueSize: UInt16 = 12         // u16, read
    static let queueSelect: UInt16 = 14       // u16
    static let queueNotify: UInt16 = 16       // u16
    static let deviceStatus: UInt16 = 18      // u8
    static let isrStatus: UInt16 = 19         // u8, reading acknowledges (lowers INTx)
    /// Device configuration without MSI-X: virtio-blk's capacity (u64, 512-byte sectors) first.
    static let deviceConfig: UInt16 = 20

    static let acknowledge: UInt8 = 1
    static let driver: UInt8 = 2
    static let driverOK: UInt8 = 4
    static let failed: UInt8 = 0x80

    static let blockFlushFeature: UInt32 = 1 << 9
    static let queueAlignment: UInt64 = 4096
    static let registerSpan: UInt64 = 0x20
}

/// Where the parts of a split virtqueue of `size` entries lie (legacy layout: descriptors, then the available
/// ring, then the used ring at the next 4 KiB boundary).
struct VirtqueueLayout: Equatable {
    let size: UInt64
    var descriptors: UInt64 { 0 }
    var available: UInt64 { 16 * size }
    var used: UInt64 { (available + 6 + 2 * size + VirtioLegacy.queueAlignment - 1) & ~(VirtioLegacy.queueAlignment - 1) }
    var bytes: UInt64 { used + 6 + 8 * size }
    var pages: UInt64 { (bytes + 4095) / 4096 }

    static let nextFlag: UInt64 = 1
    static let writeFlag: UInt64 = 2
}
