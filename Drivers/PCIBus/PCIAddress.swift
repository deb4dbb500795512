/// Where a PCI function sits: bus, device (slot) and function, as configuration mechanisms address it.
public struct PCIAddress: Equatable, Hashable, Sendable, Comparable, CustomStringConvertible {
    public var bus: UInt8
    public var device: UInt8
    public var function: UInt8

    public init(bus: UInt8, device: UInt8, function: UInt8) {
        self.bus = bus
        self.device = device & 0x1f
        self.function = function & 7
    }

    /// bus << 8 | device << 3 | function: the routing id (CF8 bits 8..23 shifted down, ECAM offset >> 12).
    public var routingID: UInt16 { UInt16(bus) << 8 | UInt16(device) << 3 | UInt16(function) }

    public init(routingID: UInt16) {
        self.init(bus: UInt8(truncatingIfNeeded: routingID >> 8), device: UInt8(truncatingIfNeeded: routingID >> 3),
                  function: UInt8(truncatingIfNeeded: routingID))
    }

    public var description: String {
        PCIText.hex(UInt64(bus), 2) + ":" + PCIText.hex(UInt64(device), 2) + "." + String(function)
    }

    public static func < (a: PCIAddress, b: PCIAddress) -> Bool { a.routingID < b.routingID }
}

/// Number formatting for console lines (Embedded Swift has no String(format:)).
public enum PCIText {
    public static func hex(_ value: UInt64, _ width: Int = 0) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
