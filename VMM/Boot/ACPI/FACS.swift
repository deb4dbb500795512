/// The Firmware ACPI Control Structure (ACPI 6.5, 5.2.10): required by the FADT of a machine that is not
/// hardware-reduced. 64 bytes, 64-byte aligned, no checksum; no waking vector (the guest offers no S3) and no global
/// lock in use.
public enum FACS {
    public static let size = 64
    public static let alignment = 64

    public static func make() -> [UInt8] {
        var t = LittleEndianBytes(count: size)
        t.set(0, ascii: "FACS", width: 4)
        t.set(4, u32: UInt32(size))
        t.set(32, u8: 2)  // version
        return t.bytes
    }
}
