/// What one base address register (BAR) of a function decodes, as the device model defines it: the kind of space
/// and a power-of-two size. The guest chooses only the base (PCI Local Bus 3.0, §6.2.5.1): writing all ones and
/// reading back yields the size mask, because the bits below the size are hard-wired to zero.
public struct PCIBaseAddressRegister: Equatable {
    public enum Kind: Equatable {
        /// I/O space: 4 to 256 bytes (the PCI limit for one I/O BAR).
        case io
        /// Memory space below 4 GiB: 16 bytes to 2 GiB.
        case memory32
        /// Memory space anywhere in 64 bits; takes this BAR and the next one (upper half).
        case memory64
    }

    public let kind: Kind
    public let size: UInt64
    /// Reads have no side effects and may be merged (bit 3 of a memory BAR).
    public let prefetchable: Bool

    /// Nil when `size` is not a power of two in the kind's range, or an I/O BAR is marked prefetchable.
    public init?(kind: Kind, size: UInt64, prefetchable: Bool = false) {
        guard size != 0, size & (size &- 1) == 0 else { return nil }
        switch kind {
        case .io:
            guard size >= 4, size <= 256, !prefetchable else { return nil }
        case .memory32:
            guard size >= 16, size <= 1 << 31 else { return nil }
        case .memory64:
            guard size >= 16, size <= 1 << 63 else { return nil }
        }
        self.kind = kind
        self.size = size
        self.prefetchable = prefetchable
    }

    /// How many BAR slots (dwords 0x10...0x24) it occupies.
    public var slotCount: Int { kind == .memory64 ? 2 : 1 }

    /// The read-only low bits: space indicator, memory type, prefetchable.
    var typeBits: UInt32 {
        switch kind {
        case .io: return 0x1
        case .memory32: return prefetchable ? 0x8 : 0x0
        case .memory64: return prefetchable ? 0xc : 0x4
        }
    }

    /// The guest-writable bits of the BAR's low dword.
    var lowWritableMask: UInt32 {
        let flagBits: UInt32 = kind == .io ? 0x3 : 0xf
        let sizeBits = UInt32(truncatingIfNeeded: size &- 1)
        return ~(flagBits | sizeBits)
    }

    /// The guest-writable bits of a 64-bit BAR's upper dword.
    var highWritableMask: UInt32 { ~UInt32(truncatingIfNeeded: (size &- 1) >> 32) }
}

/// A BAR as the guest programmed it: where the function's register block appears right now.
public struct PCIBARRegion: Equatable {
    public let bar: Int
    public let kind: PCIBaseAddressRegister.Kind
    public let base: UInt64
    public let size: UInt64

    public func contains(_ address: UInt64) -> Bool { address >= base && address &- base < size }
}
