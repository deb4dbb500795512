/// An Intel VT-d interrupt remapping table entry (IRTE, VT-d spec 9.10): 128 bits, `low` and `high`, in remapped
/// (not posted) format. Bit 0 present; bit 1 fault processing disable (0: faults are recorded); bit 2 destination
/// mode (0 physical); bit 3 redirection hint (0); bit 4 trigger mode (1 level); bits 5-7 delivery mode (0 fixed);
/// bit 15 IRTE mode (0 remapped); bits 16-23 the vector; bits 32-63 the destination (xAPIC mode: the APIC id in
/// bits 40-47). `high`: bits 0-15 the source ID (requester), 16-17 source-id qualifier (0: all 16 bits), 18-19
/// source validation type (1: the requester must equal the source ID). Everything else is reserved, 0.
///
/// Invariants: every entry the kernel makes present validates its source (SVT 1, SQ 0: exactly one requester may
/// use it) and has fixed delivery to one CPU in physical mode; a non-present entry is all zero.
public struct InterruptRemapEntry: Equatable, Sendable {
    public var low: UInt64
    public var high: UInt64
    public init(low: UInt64, high: UInt64) {
        self.low = low
        self.high = high
    }

    public static let notPresent = InterruptRemapEntry(low: 0, high: 0)

    static let present: UInt64 = 1 << 0
    static let levelTriggered: UInt64 = 1 << 4
    static let validateAllSourceBits: UInt64 = 1 << 18

    /// Delivers `vector` (fixed, physical) to the CPU with xAPIC id `apicID`, only for messages from `source`.
    public static func remapped(vector: UInt8, apicID: UInt8, level: Bool, source: UInt16) -> InterruptRemapEntry {
        InterruptRemapEntry(low: present | (level ? levelTriggered : 0) | UInt64(vector) << 16 | UInt64(apicID) << 40,
                            high: UInt64(source) | validateAllSourceBits)
    }

    public var isPresent: Bool { low & Self.present != 0 }
    public var vector: UInt8 { UInt8(truncatingIfNeeded: low >> 16) }
    public var apicID: UInt8 { UInt8(truncatingIfNeeded: low >> 40) }
    public var isLevelTriggered: Bool { low & Self.levelTriggered != 0 }
    /// The one requester a present entry admits (nil: not present, or it validates no source).
    public var source: UInt16? {
        guard isPresent, high >> 16 & 0xf == Self.validateAllSourceBits >> 16 else { return nil }
        return UInt16(truncatingIfNeeded: high)
    }

    /// An IOAPIC redirection entry in remappable format (VT-d spec 5.1.5.1): bit 48 format 1, bits 49-63 handle
    /// bits 0-14, bit 11 handle bit 15; vector and trigger mode as the IRTE has them (the IOAPIC matches EOIs by
    /// vector), polarity the pin's, masked (bit 16) until the kernel unmasks it; delivery mode 0.
    public static func ioapicRedirection(handle: UInt16, vector: UInt8, level: Bool, activeLow: Bool) -> UInt64 {
        UInt64(vector) | UInt64(handle >> 15) << 11 | (activeLow ? 1 << 13 : 0) | (level ? 1 << 15 : 0) | 1 << 16
            | 1 << 48 | UInt64(handle & 0x7fff) << 49
    }
}
