/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320). It detects every single-byte and every burst error of up
/// to 32 bits, so any corrupted byte of a compiled manifest is caught. Bitwise: manifests are small, and a table
/// would be global state.
public enum CRC32 {
    /// The CRC of `bytes`, treating `skipping` (if given) as zero bytes.
    public static func checksum(_ bytes: [UInt8], zeroing skipped: Range<Int>? = nil) -> UInt32 {
        var crc: UInt32 = 0xffff_ffff
        for i in 0..<bytes.count {
            var byte = bytes[i]
            if let skipped, skipped.contains(i) { byte = 0 }
            crc ^= UInt32(byte)
            for _ in 0..<8 {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xedb8_8320 : crc >> 1
            }
        }
        return ~crc
    }
}
