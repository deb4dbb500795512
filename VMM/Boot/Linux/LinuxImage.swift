/// A bzImage's setup header, checked (Documentation/arch/x86/boot.rst): the facts the loader needs to place the
/// protected-mode kernel and to build `boot_params`. Only images this VMM can enter are accepted: boot protocol
/// 2.12 or later with the 64-bit entry (XLF_KERNEL_64) and LOADED_HIGH. Every field is read within the file, in
/// file order, and every size and address is checked against the file and against overflow.
public struct LinuxImage {
    public static let bootFlag: UInt16 = 0xaa55
    public static let headerMagic: UInt32 = 0x5372_6448  // "HdrS"
    public static let minimumProtocol: UInt16 = 0x020c
    public static let loadedHigh: UInt8 = 0x01  // loadflags bit 0
    public static let kernel64: UInt16 = 0x01  // xloadflags bit 0: the 64-bit entry at load address + 0x200
    public static let entry64Offset: UInt64 = 0x200
    public static let setupHeaderStart = 0x1f1
    /// boot_params has room for the setup header up to 0x290, where edd_mbr_sig_buffer starts.
    public static let setupHeaderLimit = 0x290
    /// A sector in the boot protocol's sense, whatever the medium.
    public static let sectorSize: UInt64 = 512

    public let fileSize: UInt64
    public let protocolVersion: UInt16
    /// setup_sects as the kernel means it (0 read as 4).
    public let setupSectors: UInt64
    /// The boot sector and the real-mode setup: the protected-mode kernel starts at this file offset.
    public let setupSize: UInt64
    /// syssize × 16: the protected-mode kernel's bytes in the file (a signed image carries more after them).
    public let kernelSize: UInt64
    public let loadFlags: UInt8
    public let xloadFlags: UInt16
    public let kernelAlignment: UInt64
    public let relocatable: Bool
    /// cmdline_size: the longest command line, not counting its NUL.
    public let commandLineLimit: UInt64
    /// initrd_addr_max: the highest address the initrd may occupy (its last byte).
    public let initrdAddressMax: UInt64
    public let preferredAddress: UInt64
    /// init_size: contiguous memory from the kernel's start it needs before it reads the memory map.
    public let initSize: UInt64
    /// The setup header as in the file, from 0x1f1 to its end (0x202 + the byte at 0x201): copied into boot_params.
    public let setupHeader: [UInt8]
    /// The version string kernel_version points at, if the image has one.
    public let version: String?

    public var protocolDescription: String { protocolString(protocolVersion) }

    public init(bytes: [UInt8]) throws(LinuxImageError) {
        try self.init(size: UInt64(bytes.count)) { bytes[Int($0)] }
    }

    /// `byteAt` is called only for offsets below `size`.
    public init(size: UInt64, byteAt: (UInt64) -> UInt8) throws(LinuxImageError) {
        func read(_ field: SetupHeaderField) -> UInt64 {
            (0..<field.width).reduce(UInt64(0)) { $0 | UInt64(byteAt(UInt64(field.offset + $1))) << (8 * UInt64($1)) }
        }
        var values = [UInt64](repeating: 0, count: SetupHeaderField.all.count)
        for field in SetupHeaderField.all {
            guard UInt64(field.offset + field.width) <= size else { throw .truncated(field: field, fileSize: size) }
            values[field.rawValue] = read(field)
        }
        func value(_ field: SetupHeaderField) -> UInt64 { values[field.rawValue] }

        guard value(.bootFlag) == UInt64(Self.bootFlag) else { throw .badBootFlag(UInt16(value(.bootFlag))) }
        guard value(.header) == UInt64(Self.headerMagic) else { throw .notABzImage(magic: UInt32(value(.header))) }
        let version = UInt16(value(.version))
        guard version >= Self.minimumProtocol else { throw .protocolTooOld(version) }
        // The jump at 0x200 (0xeb, offset) skips the header: its end is 0x202 + the offset byte.
        let headerEnd = 0x202 + Int(value(.jump) >> 8)
        let initSizeEnd = SetupHeaderField.initSize.offset + SetupHeaderField.initSize.width
        guard headerEnd >= initSizeEnd, headerEnd <= Self.setupHeaderLimit else { throw .badHeaderLength(end: headerEnd) }
        let loadFlags = UInt8(value(.loadFlags))
        guard loadFlags & Self.loadedHigh != 0 else { throw .notLoadedHigh(loadFlags: loadFlags) }
        let xloadFlags = UInt16(value(.xloadFlags))
        guard xloadFlags & Self.kernel64 != 0 else { throw .no64BitEntry(xloadFlags: xloadFlags) }

        let sectors = value(.setupSects) == 0 ? 4 : value(.setupSects)
        let setupSize = (sectors + 1) * Self.sectorSize
        guard setupSize <= size else {
            throw .setupBeyondFile(setupSize: setupSize, fileSize: size)
        }
        let kernelSize = value(.syssize) * 16  // syssize is 32 bits: no overflow in 64
        guard kernelSize > 0 else { throw .noKernel }
        guard kernelSize <= size - setupSize else {
            throw .kernelBeyondFile(setupSize: setupSize, kernelSize: kernelSize, fileSize: size)
        }
        let alignment = value(.kernelAlignment)
        let relocatable = value(.relocatableKernel) != 0
        guard alignment >= 0x1000, alignment & (alignment - 1) == 0 else {
            throw .badKernelAlignment(UInt32(alignment))
        }
        let initSize = value(.initSize)
        guard initSize >= kernelSize else { throw .initSizeTooSmall(initSize: initSize, kernelSize: kernelSize) }
        let preferred = value(.preferredAddress)
        let (preferredEnd, wraps) = preferred.addingReportingOverflow(initSize)
        if !relocatable {
            guard preferred >= 0x10_0000, !wraps, preferredEnd <= 1 << 52 else { throw .badPreferredAddress(preferred) }
        }

        var versionText: String? = nil
        let versionPointer = value(.kernelVersion)
        if versionPointer != 0 {
            // kernel_version is an offset less 0x200, and the string lies within the setup code.
            var bytes: [UInt8] = []
            var at = versionPointer + 0x200
            var terminated = false
            while at < setupSize, bytes.count < 256 {
                let byte = byteAt(at)
                if byte == 0 { terminated = true; break }
                bytes.append(byte)
                at += 1
            }
            guard terminated else { throw .badKernelVersionPointer(UInt16(versionPointer)) }
            versionText = String(decoding: bytes, as: UTF8.self)
        }

        fileSize = size
        protocolVersion = version
        setupSectors = sectors
        self.setupSize = setupSize
        self.kernelSize = kernelSize
        self.loadFlags = loadFlags
        self.xloadFlags = xloadFlags
        kernelAlignment = alignment
        self.relocatable = relocatable
        commandLineLimit = value(.cmdlineSize)
        initrdAddressMax = value(.initrdAddressMax)
        preferredAddress = preferred
        self.initSize = initSize
        setupHeader = (Self.setupHeaderStart..<headerEnd).map { byteAt(UInt64($0)) }
        self.version = versionText
    }
}
