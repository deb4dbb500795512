/// What a decoded instruction does. Operands follow Intel order: the destination first (compare, test and bit
/// test read it without writing it).
public enum Operation: Equatable, Sendable {
    case mov, movzx, movsx, movsxd, xchg
    /// String forms: operands implied (ES:[rdi], DS:[rsi] or its override, the accumulator), REP-able.
    case movs, stos, lods
    case add, or, adc, sbb, and, sub, xor, cmp, test
    case not, neg, inc, dec
    case bt, bts, btr, btc

    /// The group-1 operation an ALU opcode (00-3F) or the ModRM reg field of 80-83 selects.
    static func arithmetic(_ field: UInt8) -> Operation {
        switch field & 7 {
        case 0: .add
        case 1: .or
        case 2: .adc
        case 3: .sbb
        case 4: .and
        case 5: .sub
        case 6: .xor
        default: .cmp
        }
    }

    /// The read-modify-write operations LOCK may prefix (when their destination is memory).
    var isLockable: Bool {
        switch self {
        case .add, .or, .adc, .sbb, .and, .sub, .xor, .xchg, .not, .neg, .inc, .dec, .bts, .btr, .btc: true
        default: false
        }
    }

    public var isString: Bool { self == .movs || self == .stos || self == .lods }
}
