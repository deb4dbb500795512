/// The prefixes in front of an instruction's opcode, as the processor applies them: of repeated or conflicting
/// prefixes of one group (segment overrides, F2/F3) the last counts; a REX prefix counts only directly before the
/// opcode (one followed by a legacy prefix is ignored, and of several REX bytes in a row the last counts).
public struct Prefixes: Equatable, Sendable {
    public var lock = false
    public var repeatPrefix: RepeatPrefix?
    public var segmentOverride: Segment?
    /// 66: switches the operand size between 16 and 32 bits (REX.W takes precedence).
    public var operandSizeOverride = false
    /// 67: switches the address size (64 -> 32, 32 -> 16, 16 -> 32).
    public var addressSizeOverride = false
    public var rex: REX?

    public init() {}

    /// Reads the prefixes at the start of `bytes` in `mode`; the reader stops at the first opcode byte.
    static func read<Bytes>(_ reader: inout ByteReader<Bytes>, mode: CodeMode) throws(DecodeError) -> Prefixes {
        var prefixes = Prefixes()
        while true {
            let byte = try reader.peek()
            switch byte {
            case 0xf0: prefixes.lock = true
            case 0xf2: prefixes.repeatPrefix = .repne
            case 0xf3: prefixes.repeatPrefix = .rep
            case 0x26: prefixes.segmentOverride = .es
            case 0x2e: prefixes.segmentOverride = .cs
            case 0x36: prefixes.segmentOverride = .ss
            case 0x3e: prefixes.segmentOverride = .ds
            case 0x64: prefixes.segmentOverride = .fs
            case 0x65: prefixes.segmentOverride = .gs
            case 0x66: prefixes.operandSizeOverride = true
            case 0x67: prefixes.addressSizeOverride = true
            case 0x40...0x4f where mode == .bits64:
                reader.skip()
                prefixes.rex = REX(byte)
                continue
            default:
                return prefixes
            }
            // A legacy prefix after a REX prefix voids the REX prefix.
            prefixes.rex = nil
            reader.skip()
        }
    }
}

public enum RepeatPrefix: Equatable, Sendable {
    /// F3: REP (REPE for compare strings).
    case rep
    /// F2: REPNE (a plain repeat for the move, store and load strings).
    case repne
}

/// A REX prefix (40-4F, 64-bit mode only): W selects 64-bit operands, R, X and B extend the ModRM reg, SIB index
/// and ModRM r/m / SIB base fields to 4 bits.
public struct REX: Equatable, Sendable {
    public let byte: UInt8

    public init(_ byte: UInt8) { self.byte = byte }

    public var w: Bool { byte & 8 != 0 }
    public var r: Bool { byte & 4 != 0 }
    public var x: Bool { byte & 2 != 0 }
    public var b: Bool { byte & 1 != 0 }
}
