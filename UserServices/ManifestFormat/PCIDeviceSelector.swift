/// How the manifest names a PCI device assigned to a component: by its IDs (`"1af4:1001"`, vendor and device in
/// hex, the first such device on the bus) or by its place (`"00:03.0"`, bus:device.function in hex). Both forms
/// are parsed here, for mkimage and for the root task's console lines.
public enum PCIDeviceSelector: Equatable, Hashable, Sendable, Comparable, CustomStringConvertible {
    case ids(vendor: UInt16, device: UInt16)
    case address(bus: UInt8, device: UInt8, function: UInt8)

    /// Why a selector's text was refused (the manifest checker words the message around it).
    public enum ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        case empty
        case shape
        case notHex(part: String)
        case tooLarge(part: String, limit: UInt64)
        case noDevice

        public var description: String {
            switch self {
            case .empty: return "it is empty"
            case .shape: return "it is neither vendor:device nor bus:device.function"
            case .notHex(let part): return "\"\(part)\" is not a hexadecimal number"
            case .tooLarge(let part, let limit): return "\"\(part)\" is larger than 0x\(String(limit, radix: 16))"
            case .noDevice: return "vendor 0xffff is what an empty slot reads; no device has it"
            }
        }
    }

    public static func parse(_ text: String) -> Result<PCIDeviceSelector, ParseError> {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return .failure(.empty) }
        let colon = bytes.firstIndex(of: UInt8(ascii: ":"))
        guard let colon, bytes.lastIndex(of: UInt8(ascii: ":")) == colon else { return .failure(.shape) }
        let left = Array(bytes[..<colon]), right = Array(bytes[(colon + 1)...])
        if let dot = right.firstIndex(of: UInt8(ascii: ".")) {
            guard right.lastIndex(of: UInt8(ascii: ".")) == dot else { return .failure(.shape) }
            let bus = hex(left, limit: 0xff), device = hex(Array(right[..<dot]), limit: 0x1f)
            let function = hex(Array(right[(dot + 1)...]), limit: 7)
            switch (bus, device, function) {
            case (.success(let b), .success(let d), .success(let f)):
                return .success(.address(bus: UInt8(b), device: UInt8(d), function: UInt8(f)))
            case (.failure(let e), _, _), (_, .failure(let e), _), (_, _, .failure(let e)):
                return .failure(e)
            }
        }
        switch (hex(left, limit: 0xffff), hex(right, limit: 0xffff)) {
        case (.success(let v), .success(let d)):
            guard v != 0xffff else { return .failure(.noDevice) }
            return .success(.ids(vendor: UInt16(v), device: UInt16(d)))
        case (.failure(let e), _), (_, .failure(let e)):
            return .failure(e)
        }
    }

    /// One to four hex digits (no prefix, no sign) at most `limit`.
    private static func hex(_ digits: [UInt8], limit: UInt64) -> Result<UInt64, ParseError> {
        let part = String(decoding: digits, as: UTF8.self)
        guard !digits.isEmpty, digits.count <= 4 else {
            return digits.isEmpty ? .failure(.shape) : .failure(.tooLarge(part: part, limit: limit))
        }
        var value: UInt64 = 0
        for d in digits {
            let v: UInt8
            switch d {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = d - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = d - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): v = d - UInt8(ascii: "A") + 10
            default: return .failure(.notHex(part: part))
            }
            value = value * 16 + UInt64(v)
        }
        guard value <= limit else { return .failure(.tooLarge(part: part, limit: limit)) }
        return .success(value)
    }

    // MARK: blob encoding (BlobLayout: kind u32, value u32)

    public static let idsKind: UInt32 = 1
    public static let addressKind: UInt32 = 2

    public var kind: UInt32 {
        switch self {
        case .ids: return Self.idsKind
        case .address: return Self.addressKind
        }
    }

    /// ids: vendor | device << 16; address: bus << 8 | device << 3 | function (the CF8 / ECAM routing id).
    public var value: UInt32 {
        switch self {
        case let .ids(vendor, device): return UInt32(vendor) | UInt32(device) << 16
        case let .address(bus, device, function):
            return UInt32(bus) << 8 | UInt32(device) << 3 | UInt32(function)
        }
    }

    /// The inverse of `kind`/`value`; nil for an unknown kind, a value with bits no selector has, or vendor 0xffff.
    public static func decode(kind: UInt32, value: UInt32) -> PCIDeviceSelector? {
        switch kind {
        case idsKind:
            let vendor = UInt16(truncatingIfNeeded: value), device = UInt16(truncatingIfNeeded: value >> 16)
            return vendor == 0xffff ? nil : .ids(vendor: vendor, device: device)
        case addressKind:
            guard value <= 0xffff else { return nil }
            return .address(bus: UInt8(truncatingIfNeeded: value >> 8), device: UInt8(truncatingIfNeeded: value >> 3) & 0x1f,
                            function: UInt8(truncatingIfNeeded: value) & 7)
        default:
            return nil
        }
    }

    public var description: String {
        switch self {
        case let .ids(vendor, device): return Self.hex(UInt64(vendor), 4) + ":" + Self.hex(UInt64(device), 4)
        case let .address(bus, device, function):
            return Self.hex(UInt64(bus), 2) + ":" + Self.hex(UInt64(device), 2) + "." + String(function)
        }
    }

    public static func < (a: PCIDeviceSelector, b: PCIDeviceSelector) -> Bool {
        (a.kind, a.value) < (b.kind, b.value)
    }

    static func hex(_ value: UInt64, _ width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
