/// Appends little-endian integers and string references while encoding a manifest.
struct BlobWriter {
    var bytes: [UInt8] = []
    /// The string table being built; identical strings are stored once.
    var strings: [UInt8] = []
    private var stored: [(text: [UInt8], offset: Int)] = []
    /// Open-addressing hash table of positions in `stored` (-1: empty), so each string costs one lookup
    /// however many there are. Hand-made: Embedded Swift builds this file too, without `Hasher`.
    private var slots = [Int](repeating: -1, count: 64)

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
        var slot = Self.hash(text.bytes) & (slots.count - 1)
        while slots[slot] >= 0, stored[slots[slot]].text != text.bytes { slot = (slot + 1) & (slots.count - 1) }
        if slots[slot] < 0 {
            slots[slot] = stored.count
            stored.append((text.bytes, strings.count))
            strings.append(contentsOf: text.bytes)
            if stored.count * 2 > slots.count { rehash() }
        }
        let offset = stored[slots[Self.find(text.bytes, in: slots, stored)]].offset
        index(offset)
        index(text.bytes.count)
    }

    private static func find(_ text: [UInt8], in slots: [Int], _ stored: [(text: [UInt8], offset: Int)]) -> Int {
        var slot = hash(text) & (slots.count - 1)
        while stored[slots[slot]].text != text { slot = (slot + 1) & (slots.count - 1) }
        return slot
    }

    private mutating func rehash() {
        slots = [Int](repeating: -1, count: slots.count * 2)
        for (i, entry) in stored.enumerated() {
            var slot = Self.hash(entry.text) & (slots.count - 1)
            while slots[slot] >= 0 { slot = (slot + 1) & (slots.count - 1) }
            slots[slot] = i
        }
    }

    /// FNV-1a.
    private static func hash(_ bytes: [UInt8]) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return Int(truncatingIfNeeded: h >> 1)
    }

    mutating func patchU32(_ value: UInt32, at offset: Int) {
        for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
    }
}
