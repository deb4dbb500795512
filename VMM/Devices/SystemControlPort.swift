/// System control port B (0x61) and the POST code port (0x80). Port 0x61: bit 0 is PIT channel 2's gate, bit 1
/// the speaker data enable (no speaker: kept only), bits 2-3 the parity/IOCHK check enables (kept, nothing to
/// check); read-only bit 4 toggles with every DRAM refresh request (15.085 µs), bit 5 is channel 2's OUT, bits 6-7
/// (IOCHK, SERR) stay clear. Writes to the read-only bits are normal (Linux writes back what it read) and ignored.
/// Port 0x80 takes POST codes and Linux's I/O delay writes: kept for diagnostics, reads float.
public final class SystemControlPort: PortIODevice {
    public static let port: UInt16 = 0x61
    public static let postPort: UInt16 = 0x80
    static let refreshPeriod: UInt64 = 15_085

    private let pit: PIT8254
    private var enables: UInt8 = 0
    /// The last byte written to port 0x80.
    public private(set) var lastPOSTCode: UInt8 = 0
    public var errors = DeviceErrorLog()

    public init(pit: PIT8254) { self.pit = pit }

    public func portRead(_ port: UInt16, size: Int) -> UInt32 {
        guard size == 1, port == Self.port || port == Self.postPort else {
            errors.record(.unsupportedAccess(.systemControlPort, offset: UInt64(port), size: size, write: false))
            return allOnes(size)
        }
        guard port == Self.port else { return 0xff }
        let refresh: UInt8 = pit.now / Self.refreshPeriod & 1 != 0 ? 0x10 : 0
        let out: UInt8 = pit.channel2Output ? 0x20 : 0
        let gate: UInt8 = pit.channel2Gate ? 0x01 : 0
        return UInt32(enables & 0x0e | gate | refresh | out)
    }

    public func portWrite(_ port: UInt16, size: Int, value: UInt32) {
        guard size == 1, port == Self.port || port == Self.postPort else {
            errors.record(.unsupportedAccess(.systemControlPort, offset: UInt64(port), size: size, write: true))
            return
        }
        let byte = UInt8(truncatingIfNeeded: value)
        guard port == Self.port else { lastPOSTCode = byte; return }
        enables = byte & 0x0f
        pit.setChannel2Gate(byte & 0x01 != 0)
    }
}
