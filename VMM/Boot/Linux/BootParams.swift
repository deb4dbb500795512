/// `struct boot_params`, the zero page (Documentation/arch/x86/zero-page.rst): the setup header copied from the
/// bzImage to its place at 0x1f1, the fields a boot loader must write there, and the additional fields the 64-bit
/// boot protocol reads outside it. Everything else stays zero; so does the sentinel at 0x1ef, which tells Linux the
/// loader zeroed the page before copying the header in.
public enum BootParams {
    public static let size = 0x1000

    // Outside the setup header (zero-page.rst).
    public static let acpiRSDPAddress = 0x070
    public static let extRamdiskImage = 0x0c0
    public static let extRamdiskSize = 0x0c4
    public static let extCmdLinePtr = 0x0c8
    public static let e820EntryCount = 0x1e8
    public static let sentinel = 0x1ef
    public static let e820Table = 0x2d0
    public static let e820EntrySize = 20

    /// "Undefined" boot loader: this VMM has no assigned id.
    public static let undefinedLoader: UInt8 = 0xff

    public struct Contents {
        public var kernelAddress: UInt64
        public var commandLineAddress: UInt64
        public var initrdAddress: UInt64
        public var initrdSize: UInt64
        public var rsdpAddress: UInt64
        public var e820: E820Map
    }

    public static func make(image: LinuxImage, _ c: Contents) -> [UInt8] {
        var page = LittleEndianBytes(count: size)
        page.set(LinuxImage.setupHeaderStart, bytes: image.setupHeader)
        page.set(SetupHeaderField.typeOfLoader.offset, u8: undefinedLoader)
        // For a 64-bit entry code32_start is not used; it still says where the protected-mode kernel is.
        page.set(SetupHeaderField.code32Start.offset, u32: UInt32(truncatingIfNeeded: c.kernelAddress))
        page.set(SetupHeaderField.cmdLinePtr.offset, u32: UInt32(truncatingIfNeeded: c.commandLineAddress))
        page.set(extCmdLinePtr, u32: UInt32(truncatingIfNeeded: c.commandLineAddress >> 32))
        page.set(SetupHeaderField.ramdiskImage.offset, u32: UInt32(truncatingIfNeeded: c.initrdAddress))
        page.set(SetupHeaderField.ramdiskSize.offset, u32: UInt32(truncatingIfNeeded: c.initrdSize))
        page.set(extRamdiskImage, u32: UInt32(truncatingIfNeeded: c.initrdAddress >> 32))
        page.set(extRamdiskSize, u32: UInt32(truncatingIfNeeded: c.initrdSize >> 32))
        page.set(acpiRSDPAddress, u64: c.rsdpAddress)
        let entries = c.e820.entries.prefix(E820Map.maximumEntries)
        page.set(e820EntryCount, u8: UInt8(entries.count))
        for (i, entry) in entries.enumerated() {
            let at = e820Table + i * e820EntrySize
            page.set(at, u64: entry.address)
            page.set(at + 8, u64: entry.size)
            page.set(at + 16, u32: entry.type.rawValue)
        }
        return page.bytes
    }
}
