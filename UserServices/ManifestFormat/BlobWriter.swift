/// Appends little-endian integers and string references while encoding a manifest.
struct BlobWriter {
    var bytes: [UInt8] = []
    /// The string table being built; identical strings are stored once.
    var strings: [UInt8] = []
    private var stored: [(text: [UInt8], offset: Int)] = []

    mutating func u32(_ value: UInt32) {
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt32(i)))) }
    }

    mutating func u64(_ value: UInt64) {
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }

    mutating func index(_ value: Int) { u32(UInt32(truncatingIfNeeded: value)) }

    mutating func string(_ text: ManifestString) {
        if text.isEmpty {
            u32(0)
            u32(0)
            return
        }
        var offset = -1
        for entry in stored where entry.text == text.bytes { offset = entry.offset }
        if offset < 0 {
            offset = strings.count
            strings.append(contentsOf: text.bytes)
            stored.append((text.bytes, offset))
        }
        index(offset)
        index(text.bytes.count)
    }

    mutating func patchU32(_ value: UInt32, at offset: Int) {
        for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
    }
}
