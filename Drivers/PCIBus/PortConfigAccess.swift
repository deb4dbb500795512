import UserRuntime

/// Configuration mechanism #1: the dword address register at port 0xcf8 (enable bit 31, routing id in bits
/// 8..23, dword offset in bits 2..7) and the data window 0xcfc..0xcff, read or written with the access's width at
/// its byte offset. The address register takes dword writes only (chipsets, QEMU included, ignore narrower ones).
/// Two users of the pair would corrupt each other's cycles: the root task uses it only before any component
/// starts, then only the PCI driver holds the ports.
public final class PortConfigAccess<P: UserPlatform>: PCIConfigAccess {
    public static var addressPort: UInt16 { 0xcf8 }
    public static var dataPort: UInt16 { 0xcfc }
    public static var portCount: UInt64 { 8 }

    let platform: P

    public init(platform: P) { self.platform = platform }

    /// Runs `body` and restores the address register as it was: for an access made while the driver that owns the
    /// mechanism may sit between its select and its data access (the root task at a component's teardown).
    public func preservingAddress(_ body: () -> Void) {
        let saved = platform.portIn32(Self.addressPort)
        body()
        platform.portOut32(Self.addressPort, saved)
    }

    private func select(_ a: PCIAddress, _ offset: UInt8) {
        platform.portOut32(Self.addressPort, 0x8000_0000 | UInt32(a.routingID) << 8 | UInt32(offset & 0xfc))
    }

    public func read(_ address: PCIAddress, offset: UInt8, width: PCIAccessWidth) -> UInt32 {
        select(address, offset)
        let port = Self.dataPort + UInt16(offset & 3)
        switch width {
        case .byte: return UInt32(platform.portIn8(port))
        case .word: return UInt32(platform.portIn16(port))
        case .dword: return platform.portIn32(port)
        }
    }

    public func write(_ address: PCIAddress, offset: UInt8, width: PCIAccessWidth, _ value: UInt32) {
        select(address, offset)
        let port = Self.dataPort + UInt16(offset & 3)
        switch width {
        case .byte: platform.portOut8(port, UInt8(truncatingIfNeeded: value))
        case .word: platform.portOut16(port, UInt16(truncatingIfNeeded: value))
        case .dword: platform.portOut32(port, value)
        }
    }
}
