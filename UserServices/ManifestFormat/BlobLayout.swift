/// The compiled manifest's binary layout (version 3). All integers are little-endian.
///
///     header (48 bytes)
///       0  magic "HVMANFST"              8  version u32          12 total length u32
///       16 checksum u32 (CRC-32 of the whole blob with this field zero)
///       20 component count u32           24 VM count u32
///       28 string table offset u32       32 string table size u32
///       36 interrupt count u32           40 machine memory u64
///     component records, in start order, then VM records
///     string table (printable ASCII, referenced as offset u32 + length u32 relative to the table)
///
///     component: name s, binary s, memory u64, priority u64, budget ms u64, flags u32 (bit 0 restart on fault,
///                bit 1 VMM), counts u32 x7 (ports, MMIO, interrupts, provides, uses, depends, PCI devices), then
///                ports (first u64, count u64), MMIO (base u64, size u64), interrupts u64,
///                provides (name s, kind s), uses (route), depends (component index u32),
///                PCI devices (kind u32: 1 vendor:device, 2 bus:device.function; value u32, `PCIDeviceSelector`)
///     VM:        name s, VMM index u32, image kind u32 (1 kernel, 2 test image), image s, initrd s, command line s, disk s,
///                memory u64, vCPUs u64, flags u32 (bit 0 nested, bit 1 the disk string names a `block` route of the
///                VMM's uses rather than a module), route count u32, routes
///     route:     name s, kind s, provider component index u32, service index u32
public enum BlobLayout {
    /// "HVMANFST"
    public static let magic: [UInt8] = [0x48, 0x56, 0x4d, 0x41, 0x4e, 0x46, 0x53, 0x54]
    public static let version: UInt32 = 3
    public static let headerSize = 48

    public static let versionOffset = 8
    public static let lengthOffset = 12
    public static let checksumOffset = 16
    public static let componentCountOffset = 20
    public static let vmCountOffset = 24
    public static let stringTableOffsetOffset = 28
    public static let stringTableSizeOffset = 32
    public static let interruptCountOffset = 36
    public static let machineMemoryOffset = 40

    public static let componentFixedSize = 8 + 8 + 8 + 8 + 8 + 4 + 7 * 4
    public static let portSize = 16
    public static let mmioSize = 16
    public static let interruptSize = 8
    public static let serviceSize = 16
    public static let routeSize = 24
    public static let dependencySize = 4
    public static let pciDeviceSize = 8
    public static let vmFixedSize = 8 + 4 + 4 + 8 + 8 + 8 + 8 + 8 + 8 + 4 + 4

    public static let restartOnFaultFlag: UInt32 = 1 << 0
    public static let vmmFlag: UInt32 = 1 << 1
    public static let componentFlags: UInt32 = restartOnFaultFlag | vmmFlag
    public static let nestedFlag: UInt32 = 1 << 0
    /// The VM's disk string is the name of a route of its VMM (`VirtualMachineDescription.diskService`); without
    /// it (every blob before this bit) the disk is a bundle module.
    public static let diskServiceFlag: UInt32 = 1 << 1
    public static let vmFlags: UInt32 = nestedFlag | diskServiceFlag

    public static let kernelImageKind: UInt32 = 1
    public static let testImageKind: UInt32 = 2
}
