import UserRuntime

/// How the driver reaches a virtio PCI device: the legacy interface in I/O BAR 0 (virtio 0.9.5, transitional
/// devices) or the modern one (virtio 1.x §4.1.4), whose structures lie in memory BARs the root task mapped for
/// the driver (uncached). Both drive the same split virtqueue; the modern one also takes the queue's three parts
/// at separate addresses and offers VIRTIO_F_ACCESS_PLATFORM, with which its DMA goes through the IOMMU.
enum VirtioTransport: Equatable {
    case legacy(io: UInt16)
    /// Virtual addresses of the common configuration, queue 0's notify register, the ISR byte and the device
    /// configuration.
    case modern(common: UInt64, notify: UInt64, isr: UInt64, device: UInt64)

    // Modern common configuration (virtio 1.2 §4.1.4.3).
    static let deviceFeatureSelect: UInt64 = 0, deviceFeature: UInt64 = 4
    static let driverFeatureSelect: UInt64 = 8, driverFeature: UInt64 = 12
    static let configMSIXVector: UInt64 = 16
    static let deviceStatus: UInt64 = 20, queueSelect: UInt64 = 22, queueSize: UInt64 = 24
    static let queueMSIXVector: UInt64 = 26, queueEnable: UInt64 = 28, queueNotifyOff: UInt64 = 30
    static let queueDescriptors: UInt64 = 32, queueDriver: UInt64 = 40, queueDevice: UInt64 = 48

    static let featuresOK: UInt8 = 8
    static let noVector: UInt16 = 0xffff
    /// Feature bits: flush (virtio-blk), version 1 (modern), access platform (DMA through the IOMMU).
    static let flushFeature: UInt64 = 1 << 9
    static let version1Feature: UInt64 = 1 << 32
    static let accessPlatformFeature: UInt64 = 1 << 33

    var isModern: Bool { if case .modern = self { return true } else { return false } }

    func setStatus<P: UserPlatform>(_ p: P, _ value: UInt8) {
        switch self {
        case .legacy(let io): p.portOut8(io + VirtioLegacy.deviceStatus, value)
        case .modern(let common, _, _, _): p.store8(common + Self.deviceStatus, value)
        }
    }

    func status<P: UserPlatform>(_ p: P) -> UInt8 {
        switch self {
        case .legacy(let io): return p.portIn8(io + VirtioLegacy.deviceStatus)
        case .modern(let common, _, _, _): return p.load8(common + Self.deviceStatus)
        }
    }

    /// Writes 0 to the status: the device drops its queues and every request it held, and stops DMA. A modern
    /// device may take time; the write completes when the status reads 0 again.
    func reset<P: UserPlatform>(_ p: P) {
        setStatus(p, 0)
        guard isModern else { return }
        for _ in 0..<1_000_000 where status(p) != 0 {}
    }

    func deviceFeatures<P: UserPlatform>(_ p: P) -> UInt64 {
        switch self {
        case .legacy(let io): return UInt64(p.portIn32(io + VirtioLegacy.deviceFeatures))
        case .modern(let common, _, _, _):
            p.store32(common + Self.deviceFeatureSelect, 0)
            let low = UInt64(p.load32(common + Self.deviceFeature))
            p.store32(common + Self.deviceFeatureSelect, 1)
            return low | UInt64(p.load32(common + Self.deviceFeature)) << 32
        }
    }

    /// Sets the driver's features; false when a modern device does not accept them (FEATURES_OK stays clear).
    func setDriverFeatures<P: UserPlatform>(_ p: P, _ features: UInt64, status: UInt8) -> Bool {
        switch self {
        case .legacy(let io):
            p.portOut32(io + VirtioLegacy.driverFeatures, UInt32(truncatingIfNeeded: features))
            return true
        case .modern(let common, _, _, _):
            p.store32(common + Self.driverFeatureSelect, 0)
            p.store32(common + Self.driverFeature, UInt32(truncatingIfNeeded: features))
            p.store32(common + Self.driverFeatureSelect, 1)
            p.store32(common + Self.driverFeature, UInt32(truncatingIfNeeded: features >> 32))
            setStatus(p, status | Self.featuresOK)
            return self.status(p) & Self.featuresOK != 0
        }
    }

    /// Queue 0's size as the device offers it (0: no queue).
    func queueSize<P: UserPlatform>(_ p: P) -> UInt64 {
        switch self {
        case .legacy(let io):
            p.portOut16(io + VirtioLegacy.queueSelect, 0)
            return UInt64(p.portIn16(io + VirtioLegacy.queueSize))
        case .modern(let common, _, _, _):
            p.store16(common + Self.queueSelect, 0)
            return UInt64(p.load16(common + Self.queueSize))
        }
    }

    /// Gives the device queue 0 at device addresses `base + layout` (legacy: one page-aligned block named by page
    /// number; modern: the three parts and the size, then enabled, its interrupts through MSI-X table entry
    /// `vector`, or INTx with `noVector`). False when a modern device refuses the vector (it reads back `noVector`).
    @discardableResult
    func setQueue<P: UserPlatform>(_ p: P, layout: VirtqueueLayout, base: UInt64, vector: UInt16 = noVector) -> Bool {
        switch self {
        case .legacy(let io):
            p.portOut16(io + VirtioLegacy.queueSelect, 0)
            p.portOut32(io + VirtioLegacy.queueAddress, UInt32(truncatingIfNeeded: base >> 12))
        case .modern(let common, _, _, _):
            p.store16(common + Self.queueSelect, 0)
            p.store16(common + Self.queueSize, UInt16(layout.size))
            p.store16(common + Self.configMSIXVector, Self.noVector)
            p.store16(common + Self.queueMSIXVector, vector)
            let accepted = p.load16(common + Self.queueMSIXVector) == vector
            for (field, address) in [(Self.queueDescriptors, base + layout.descriptors), (Self.queueDriver, base + layout.available),
                                     (Self.queueDevice, base + layout.used)] {
                p.store32(common + field, UInt32(truncatingIfNeeded: address))
                p.store32(common + field + 4, UInt32(truncatingIfNeeded: address >> 32))
            }
            p.store16(common + Self.queueEnable, 1)
            return accepted
        }
        return true
    }

    func notify<P: UserPlatform>(_ p: P) {
        switch self {
        case .legacy(let io): p.portOut16(io + VirtioLegacy.queueNotify, 0)
        case .modern(_, let notify, _, _): p.store16(notify, 0)
        }
    }

    /// Reads the ISR byte: acknowledges the interrupt (the INTx level drops).
    func acknowledgeInterrupt<P: UserPlatform>(_ p: P) {
        switch self {
        case .legacy(let io): _ = p.portIn8(io + VirtioLegacy.isrStatus)
        case .modern(_, _, let isr, _): _ = p.load8(isr)
        }
    }

    /// virtio-blk's capacity in 512-byte sectors (the first field of its configuration).
    func capacity<P: UserPlatform>(_ p: P) -> UInt64 {
        switch self {
        case .legacy(let io):
            return UInt64(p.portIn32(io + VirtioLegacy.deviceConfig)) | UInt64(p.portIn32(io + VirtioLegacy.deviceConfig + 4)) << 32
        case .modern(_, _, _, let device):
            return UInt64(p.load32(device)) | UInt64(p.load32(device + 4)) << 32
        }
    }
}
