/// Builds a boot bundle from named modules (used by mkimage and tests).
public struct BootBundleWriter {
    private var modules: [(name: [UInt8], data: [UInt8])] = []

    public init() {}

    /// Adds a module; names must be unique, 1...47 printable ASCII characters.
    public mutating func add(name: String, data: [UInt8]) throws(BootBundleError) {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= BootBundleLayout.maxNameLength,
              bytes.allSatisfy({ $0 >= 0x21 && $0 < 0x7f }) else { throw .invalidModuleName(name) }
        if modules.contains(where: { $0.name == bytes }) { throw .duplicateName(index: modules.count, name: name) }
        modules.append((bytes, data))
    }

    /// The bundle's bytes.
    public func bytes() -> [UInt8] {
        let align = BootBundleLayout.moduleAlignment
        let tableEnd = BootBundleLayout.headerSize + modules.count * BootBundleLayout.entrySize
        var offsets: [Int] = []
        var cursor = roundUp(tableEnd, align)
        for m in modules {
            offsets.append(cursor)
            cursor = roundUp(cursor + m.data.count, align)
        }
        var out = [UInt8](repeating: 0, count: cursor)
        put64(&out, 0, BootBundleLayout.magic)
        put32(&out, 8, BootBundleLayout.version)
        put32(&out, 12, UInt32(modules.count))
        put64(&out, 16, UInt64(cursor))
        for (i, m) in modules.enumerated() {
            let e = BootBundleLayout.headerSize + i * BootBundleLayout.entrySize
            for (j, b) in m.name.enumerated() { out[e + j] = b }
            put64(&out, e + 48, UInt64(offsets[i]))
            put64(&out, e + 56, UInt64(m.data.count))
            for (j, b) in m.data.enumerated() { out[offsets[i] + j] = b }
        }
        let start = BootBundleLayout.headerSize
        let sum = BootBundleLayout.checksum(count: out.count - start) { out[start + $0] }
        put64(&out, 24, sum)
        return out
    }
}

private func roundUp(_ value: Int, _ align: Int) -> Int { (value + align - 1) / align * align }

private func put32(_ out: inout [UInt8], _ at: Int, _ value: UInt32) {
    for i in 0..<4 { out[at + i] = UInt8(truncatingIfNeeded: value >> UInt32(8 * i)) }
}

private func put64(_ out: inout [UInt8], _ at: Int, _ value: UInt64) {
    for i in 0..<8 { out[at + i] = UInt8(truncatingIfNeeded: value >> UInt64(8 * i)) }
}
