/// Where the virtio-pci modern transport (virtio 1.2, §4.1) puts things: the PCI identity, the vendor-specific
/// capabilities that locate each structure, and their places in BAR 4, a 64-bit memory BAR as QEMU uses.
/// Each structure gets its own 4 KiB page, as in QEMU, so a driver can map them apart.
public enum VirtioPCILayout {
    public static let vendorID: UInt16 = 0x1af4
    /// Modern (non-transitional) device IDs are 0x1040 + the virtio device ID; revision 1 marks them.
    public static let deviceIDBase: UInt16 = 0x1040
    public static let revision: UInt8 = 1
    /// Red Hat/Qumranet and QEMU's subsystem ID (the spec asks only for one of 0x40 or above).
    public static let subsystemVendorID: UInt16 = 0x1af4
    public static let subsystemID: UInt16 = 0x1100

    public static let bar = 4
    public static let barSize: UInt64 = 0x4000
    public static let commonOffset: UInt64 = 0x0000
    public static let isrOffset: UInt64 = 0x1000
    public static let deviceOffset: UInt64 = 0x2000
    public static let notifyOffset: UInt64 = 0x3000
    public static let regionLength: UInt64 = 0x1000
    /// Queue N is notified at notifyOffset + N * 4 (queue_notify_off = N).
    public static let notifyOffMultiplier: UInt32 = 4

    public static let vendorCapabilityID: UInt8 = 0x09

    /// cfg_type of the virtio capabilities.
    public enum CapabilityType {
        public static let common: UInt8 = 1
        public static let notify: UInt8 = 2
        public static let isr: UInt8 = 3
        public static let device: UInt8 = 4
        public static let pciConfiguration: UInt8 = 5
    }

    /// Offsets in struct virtio_pci_common_cfg (§4.1.4.3), through queue_reset (0x3a).
    public enum Common {
        public static let deviceFeatureSelect = 0x00
        public static let deviceFeature = 0x04
        public static let driverFeatureSelect = 0x08
        public static let driverFeature = 0x0c
        public static let msixConfig = 0x10
        public static let numQueues = 0x12
        public static let deviceStatus = 0x14
        public static let configGeneration = 0x15
        public static let queueSelect = 0x16
        public static let queueSize = 0x18
        public static let queueMSIXVector = 0x1a
        public static let queueEnable = 0x1c
        public static let queueNotifyOff = 0x1e
        public static let queueDescriptor = 0x20
        public static let queueDriver = 0x28
        public static let queueDevice = 0x30
        public static let queueNotifyData = 0x38
        public static let queueReset = 0x3a
        public static let length = 0x3c
    }

    /// Offsets inside the VIRTIO_PCI_CAP_PCI_CFG capability, from the capability's start.
    public enum PCIConfigurationWindow {
        public static let bar = 4
        public static let offset = 8
        public static let length = 12
        public static let data = 16
    }

    /// MSI-X vectors are not implemented: every vector reads as VIRTIO_MSI_NO_VECTOR.
    public static let noVector: UInt16 = 0xffff
}
