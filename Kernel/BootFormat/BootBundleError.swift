/// Why a boot bundle was rejected; every case names what was wrong and where.
public enum BootBundleError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Fewer bytes than the header (or than the header's total size) claims.
    case truncated(needed: Int, available: Int)
    case badMagic(UInt64)
    case badVersion(UInt32)
    case tooManyEntries(Int)
    /// The checksum over the module area does not match the header.
    case badChecksum(expected: UInt64, actual: UInt64)
    /// Entry `index`'s name is empty, not NUL-terminated within its field, or not printable ASCII.
    case badName(index: Int)
    /// Entry `index`'s data lies outside the bundle or overlaps the header/entry table.
    case entryOutOfBounds(index: Int, offset: UInt64, size: UInt64)
    case duplicateName(index: Int, name: String)
    /// Writer only: the module name is empty, too long or not printable ASCII.
    case invalidModuleName(String)

    public var description: String {
        switch self {
        case let .truncated(needed, available):
            return "boot bundle truncated: needs \(needed) bytes, has \(available)"
        case let .badMagic(m): return "boot bundle has bad magic \(hex(m)) (expected \"HVBUNDLE\")"
        case let .badVersion(v): return "boot bundle version \(v) is not supported (expected \(BootBundleLayout.version))"
        case let .tooManyEntries(n): return "boot bundle claims \(n) entries (at most \(BootBundleLayout.maxEntries))"
        case let .badChecksum(expected, actual):
            return "boot bundle checksum mismatch: header says \(hex(expected)), contents give \(hex(actual))"
        case let .badName(index): return "boot bundle entry \(index) has an invalid name"
        case let .entryOutOfBounds(index, offset, size):
            return "boot bundle entry \(index) (offset \(offset), size \(size)) lies outside the module area"
        case let .duplicateName(index, name): return "boot bundle entry \(index) repeats the name \"\(name)\""
        case let .invalidModuleName(name):
            return "module name \"\(name)\" must be 1...\(BootBundleLayout.maxNameLength) printable ASCII characters"
        }
    }
}

private func hex(_ value: UInt64) -> String {
    let digits: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"]
    var s = ""
    for shift in stride(from: 60, through: 0, by: -4) { s.append(digits[Int((value >> UInt64(shift)) & 0xf)]) }
    return "0x" + s
}
