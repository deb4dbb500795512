/// The width of an operand, a register access or an address: 1, 2, 4 or 8 bytes. Values of a width travel in
/// a UInt64 whose bits above the width are zero.
public enum DataWidth: Int, Equatable, Sendable {
    case byte = 1, word = 2, dword = 4, qword = 8

    public var bytes: Int { rawValue }
    public var bits: Int { rawValue * 8 }

    /// All ones in the width's bits.
    public var mask: UInt64 { self == .qword ? ~0 : (1 << UInt64(bits)) &- 1 }
    public var signBit: UInt64 { 1 << UInt64(bits - 1) }

    public func truncate(_ value: UInt64) -> UInt64 { value & mask }

    /// The value's low `bits` bits as a signed number, extended to 64 bits.
    public func signExtend(_ value: UInt64) -> UInt64 {
        let shift = UInt64(64 - bits)
        return UInt64(bitPattern: Int64(bitPattern: value << shift) >> shift)
    }

    public func isNegative(_ value: UInt64) -> Bool { value & signBit != 0 }
}
