import UserRuntime

/// PCI configuration mechanism 1 (ports 0xCF8 address, 0xCFC data; dword accesses only): enough for a test to find
/// a device on bus 0 and program its MSI capability itself (the PCI bus driver does this for real drivers).
struct PCIConfigPorts<P: UserPlatform> {
    let platform: P
    static var addressPort: UInt16 { 0xcf8 }
    static var dataPort: UInt16 { 0xcfc }
    /// Capability IDs.
    static var msiCapability: UInt8 { 0x05 }

    struct Function: Equatable {
        var bus: UInt8, device: UInt8, function: UInt8
        var text: String { "\(hex2(bus)):\(hex2(device)).\(function)" }
    }

    private func select(_ f: Function, _ offset: UInt8) {
        let address = 0x8000_0000 | UInt32(f.bus) << 16 | UInt32(f.device) << 11 | UInt32(f.function) << 8
            | UInt32(offset & 0xfc)
        platform.portOut32(Self.addressPort, address)
    }

    func read32(_ f: Function, _ offset: UInt8) -> UInt32 {
        select(f, offset)
        return platform.portIn32(Self.dataPort)
    }

    func write32(_ f: Function, _ offset: UInt8, _ value: UInt32) {
        select(f, offset)
        platform.portOut32(Self.dataPort, value)
    }

    /// The first function 0 on bus 0 with this vendor and device ID.
    func find(vendor: UInt16, device: UInt16) -> Function? {
        for d in 0..<UInt8(32) {
            let f = Function(bus: 0, device: d, function: 0)
            if read32(f, 0) == UInt32(device) << 16 | UInt32(vendor) { return f }
        }
        return nil
    }

    /// The offset of capability `id` in `f`'s list (nil when the list has none, or loops).
    func capability(_ f: Function, id: UInt8) -> UInt8? {
        guard read32(f, 0x04) >> 16 & 0x10 != 0 else { return nil } // status: capability list present
        var offset = UInt8(truncatingIfNeeded: read32(f, 0x34)) & 0xfc
        for _ in 0..<48 where offset >= 0x40 {
            let header = read32(f, offset)
            if UInt8(truncatingIfNeeded: header) == id { return offset }
            offset = UInt8(truncatingIfNeeded: header >> 8) & 0xfc
        }
        return nil
    }
}

func hex2(_ v: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String(digits[Int(v >> 4)]) + String(digits[Int(v & 0xf)])
}

func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
