/// The 36-byte System Description Table header every ACPI table but the RSDP and the FACS starts with (ACPI 6.5,
/// 5.2.6), and the byte checksum they all share: the table's bytes sum to 0 modulo 256.
public enum ACPITableHeader {
    public static let size = 36
    public static let oemID = "SWIFTH"
    public static let oemTableID = "SWIFTVMM"
    public static let creatorID = "SVMM"
    public static let checksumOffset = 9

    /// A complete table: the header (signature, length, revision, checksum, OEM and creator ids) then `body`.
    public static func table(signature: String, revision: UInt8, body: [UInt8]) -> [UInt8] {
        var t = LittleEndianBytes(count: size)
        t.set(0, ascii: signature, width: 4)
        t.set(4, u32: UInt32(size + body.count))
        t.set(8, u8: revision)
        t.set(10, ascii: oemID, width: 6)
        t.set(16, ascii: oemTableID, width: 8)
        t.set(24, u32: 1)  // OEM revision
        t.set(28, ascii: creatorID, width: 4)
        t.set(32, u32: 1)  // creator revision
        t.append(body)
        var bytes = t.bytes
        bytes[checksumOffset] = checksum(of: bytes)
        return bytes
    }

    /// The byte that makes `bytes` (with that byte counted as 0) sum to 0.
    public static func checksum(of bytes: [UInt8]) -> UInt8 {
        0 &- bytes.reduce(UInt8(0), &+)
    }
}
