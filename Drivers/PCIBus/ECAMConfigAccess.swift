import UserRuntime

/// The enhanced configuration access mechanism (PCI Express ECAM, from the ACPI MCFG): each function's
/// configuration space is 4 KiB of memory at `base + (bus - startBus) << 20 | device << 15 | function << 12`,
/// read and written with single accesses of the request's width (uncached: the kernel maps device memory so).
/// Unlike ports 0xcf8/0xcfc there is no address register, so concurrent users cannot corrupt each other's cycles.
/// A bus outside the window reads as no device (all ones) and ignores writes, as an absent function does.
public final class ECAMConfigAccess<P: UserPlatform>: PCIConfigAccess {
    let platform: P
    /// Virtual address of `startBus`'s configuration space.
    public let base: UInt64
    public let startBus: UInt8
    public let endBus: UInt8

    public init(platform: P, base: UInt64, startBus: UInt8, endBus: UInt8) {
        self.platform = platform
        self.base = base
        self.startBus = startBus
        self.endBus = endBus
    }

    /// The register's address, nil for a bus the window does not have.
    func address(_ a: PCIAddress, _ offset: UInt8) -> UInt64? {
        guard a.bus >= startBus, a.bus <= endBus else { return nil }
        return base + UInt64(a.routingID - UInt16(startBus) << 8) << 12 + UInt64(offset)
    }

    public func read(_ address: PCIAddress, offset: UInt8, width: PCIAccessWidth) -> UInt32 {
        guard let at = self.address(address, offset) else { return width.mask }
        switch width {
        case .byte: return UInt32(platform.load8(at))
        case .word: return UInt32(platform.load16(at))
        case .dword: return platform.load32(at)
        }
    }

    public func write(_ address: PCIAddress, offset: UInt8, width: PCIAccessWidth, _ value: UInt32) {
        guard let at = self.address(address, offset) else { return }
        switch width {
        case .byte: platform.store8(at, UInt8(truncatingIfNeeded: value))
        case .word: platform.store16(at, UInt16(truncatingIfNeeded: value))
        case .dword: platform.store32(at, value)
        }
    }
}
