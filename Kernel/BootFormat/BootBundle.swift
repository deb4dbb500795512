/// One module of a validated boot bundle: its name and where its bytes are, relative to the bundle's start.
public struct BootBundleEntry: Equatable, Sendable {
    /// The name's UTF-8 bytes (ASCII, no NUL).
    public var nameBytes: [UInt8]
    public var offset: UInt64
    public var size: UInt64

    public var name: String { String(decoding: nameBytes, as: UTF8.self) }
}

/// A validated boot bundle (layout in `BootBundleLayout`). Reading goes through a byte accessor so the same code
/// runs over a host array, the kernel's physical memory and the root task's mapping of the bundle.
public struct BootBundle: Equatable, Sendable {
    public var totalSize: UInt64
    public var entries: [BootBundleEntry]

    /// Validates everything: header, checksum, each entry's name and bounds, unique names.
    /// `size` is how many bytes are available; `byte(i)` is called only for `i < size`.
    public static func read(size: Int, byte: (Int) -> UInt8) throws(BootBundleError) -> BootBundle {
        func word(_ at: Int, _ width: Int) -> UInt64 {
            var v: UInt64 = 0
            for i in 0..<width { v |= UInt64(byte(at + i)) << UInt64(8 * i) }
            return v
        }
        guard size >= BootBundleLayout.headerSize else {
            throw .truncated(needed: BootBundleLayout.headerSize, available: size)
        }
        let magic = word(0, 8)
        guard magic == BootBundleLayout.magic else { throw .badMagic(magic) }
        let version = UInt32(word(8, 4))
        guard version == BootBundleLayout.version else { throw .badVersion(version) }
        let count = Int(word(12, 4))
        guard count <= BootBundleLayout.maxEntries else { throw .tooManyEntries(count) }
        let tableEnd = BootBundleLayout.headerSize + count * BootBundleLayout.entrySize
        let total = word(16, 8)
        guard total <= UInt64(size) else { throw .truncated(needed: Int(clamping: total), available: size) }
        guard total >= UInt64(tableEnd) else { throw .truncated(needed: tableEnd, available: Int(total)) }
        let totalSize = Int(total)

        let start = BootBundleLayout.headerSize
        let expected = word(24, 8)
        let actual = BootBundleLayout.checksum(count: totalSize - start) { byte(start + $0) }
        guard expected == actual else { throw .badChecksum(expected: expected, actual: actual) }

        var entries: [BootBundleEntry] = []
        for index in 0..<count {
            let e = BootBundleLayout.headerSize + index * BootBundleLayout.entrySize
            var name: [UInt8] = []
            var terminated = false
            for j in 0..<48 {
                let b = byte(e + j)
                if b == 0 { terminated = true; break }
                guard b >= 0x21 && b < 0x7f else { throw .badName(index: index) }
                name.append(b)
            }
            guard terminated, !name.isEmpty else { throw .badName(index: index) }
            let offset = word(e + 48, 8)
            let length = word(e + 56, 8)
            guard offset >= UInt64(tableEnd), offset <= total, length <= total - offset else {
                throw .entryOutOfBounds(index: index, offset: offset, size: length)
            }
            if entries.contains(where: { $0.nameBytes == name }) {
                throw .duplicateName(index: index, name: String(decoding: name, as: UTF8.self))
            }
            entries.append(BootBundleEntry(nameBytes: name, offset: offset, size: length))
        }
        return BootBundle(totalSize: total, entries: entries)
    }

    /// Convenience for host code holding the bundle in an array.
    public static func read(_ bytes: [UInt8]) throws(BootBundleError) -> BootBundle {
        try read(size: bytes.count) { bytes[$0] }
    }

    /// The module called `name`, if present.
    public func entry(named name: String) -> BootBundleEntry? {
        let bytes = Array(name.utf8)
        return entries.first { $0.nameBytes == bytes }
    }
}
