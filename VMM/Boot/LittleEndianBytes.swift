/// A growable byte image written little-endian, as the zero page and the ACPI tables are laid out. Writes past the
/// end grow it with zeros, so a structure can be filled field by field at its documented offsets.
public struct LittleEndianBytes {
    public private(set) var bytes: [UInt8]

    public init(count: Int = 0) { bytes = [UInt8](repeating: 0, count: count) }

    public var count: Int { bytes.count }

    /// The low `width` bytes of `value`, least significant first.
    public static func encode(_ value: UInt64, width: Int) -> [UInt8] {
        (0..<width).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }

    public mutating func set(_ offset: Int, u8 value: UInt8) {
        if offset >= bytes.count { bytes.append(contentsOf: [UInt8](repeating: 0, count: offset + 1 - bytes.count)) }
        bytes[offset] = value
    }
    public mutating func set(_ offset: Int, u16 value: UInt16) { set(offset, value: UInt64(value), width: 2) }
    public mutating func set(_ offset: Int, u32 value: UInt32) { set(offset, value: UInt64(value), width: 4) }
    public mutating func set(_ offset: Int, u64 value: UInt64) { set(offset, value: value, width: 8) }

    public mutating func set(_ offset: Int, bytes source: [UInt8]) {
        for (i, byte) in source.enumerated() { set(offset + i, u8: byte) }
    }

    /// An ASCII identifier (signature, OEM id) of exactly `width` bytes: cut or padded with spaces.
    public mutating func set(_ offset: Int, ascii text: String, width: Int) {
        var field = [UInt8](text.utf8.prefix(width))
        while field.count < width { field.append(0x20) }
        set(offset, bytes: field)
    }

    public mutating func append(_ source: [UInt8]) { bytes.append(contentsOf: source) }

    /// Grows the image with zeros up to a multiple of `alignment` (a power of two).
    public mutating func pad(toMultipleOf alignment: Int) {
        while bytes.count % alignment != 0 { bytes.append(0) }
    }

    public func u8(_ offset: Int) -> UInt8 { offset < bytes.count ? bytes[offset] : 0 }
    public func u16(_ offset: Int) -> UInt16 { UInt16(truncatingIfNeeded: value(offset, width: 2)) }
    public func u32(_ offset: Int) -> UInt32 { UInt32(truncatingIfNeeded: value(offset, width: 4)) }
    public func u64(_ offset: Int) -> UInt64 { value(offset, width: 8) }

    private mutating func set(_ offset: Int, value: UInt64, width: Int) {
        for i in 0..<width { set(offset + i, u8: UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }

    private func value(_ offset: Int, width: Int) -> UInt64 {
        (0..<width).reduce(UInt64(0)) { $0 | UInt64(u8(offset + $1)) << (8 * UInt64($1)) }
    }
}
