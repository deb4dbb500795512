/// ACPI resource descriptors (ACPI 6.5, 6.4) for a _CRS buffer: the few a PCI host bridge needs.
public enum ResourceTemplate {
    /// Producer, fixed minimum and maximum, positive decode: a bridge window.
    static let windowFlags: UInt8 = 0x0c
    static let memoryType: UInt8 = 0, ioType: UInt8 = 1, busNumberType: UInt8 = 2

    /// Word Address Space Descriptor (6.4.3.5.3): a bus-number or I/O window.
    public static func wordWindow(type: UInt8, typeFlags: UInt8, minimum: UInt16, maximum: UInt16) -> [UInt8] {
        let length = UInt64(maximum) - UInt64(minimum) + 1
        return [0x88, 13, 0, type, windowFlags, typeFlags]
            + LittleEndianBytes.encode(0, width: 2) + LittleEndianBytes.encode(UInt64(minimum), width: 2)
            + LittleEndianBytes.encode(UInt64(maximum), width: 2) + LittleEndianBytes.encode(0, width: 2)
            + LittleEndianBytes.encode(length, width: 2)
    }

    public static func busNumbers(_ first: UInt16, _ last: UInt16) -> [UInt8] {
        wordWindow(type: busNumberType, typeFlags: 0, minimum: first, maximum: last)
    }

    /// An I/O window over the entire range (ISA and non-ISA addresses).
    public static func ioWindow(_ first: UInt16, _ last: UInt16) -> [UInt8] {
        wordWindow(type: ioType, typeFlags: 0x03, minimum: first, maximum: last)
    }

    /// DWord Address Space Descriptor (6.4.3.5.2): a 32-bit memory window, read/write, not cacheable.
    public static func memoryWindow(_ first: UInt32, _ last: UInt32) -> [UInt8] {
        let length = UInt64(last) - UInt64(first) + 1
        return [0x87, 23, 0, memoryType, windowFlags, 0x01]
            + LittleEndianBytes.encode(0, width: 4) + LittleEndianBytes.encode(UInt64(first), width: 4)
            + LittleEndianBytes.encode(UInt64(last), width: 4) + LittleEndianBytes.encode(0, width: 4)
            + LittleEndianBytes.encode(length, width: 4)
    }

    /// I/O Port Descriptor (6.4.2.5), 16-bit decode, fixed at `base`.
    public static func ioPorts(_ base: UInt16, count: UInt8) -> [UInt8] {
        [0x47, 0x01] + LittleEndianBytes.encode(UInt64(base), width: 2) + LittleEndianBytes.encode(UInt64(base), width: 2) + [0x01, count]
    }

    /// End Tag (6.4.2.9); checksum 0 means "treat as correct".
    public static let end: [UInt8] = [0x79, 0x00]
}
