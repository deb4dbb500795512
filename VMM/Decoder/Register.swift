/// A general register operand in x86 numbering (0 rax, 1 rcx, 2 rdx, 3 rbx, 4 rsp, 5 rbp, 6 rsi, 7 rdi, 8-15
/// r8-r15). `isHighByte` selects bits 8-15 of registers 0-3 (ah, ch, dh, bh): byte operands 4-7 name those when
/// the instruction has no REX prefix, and spl, bpl, sil, dil when it has one.
public struct Register: Equatable, Sendable {
    public let number: UInt8
    public let isHighByte: Bool

    public init(_ number: UInt8, highByte: Bool = false) {
        self.number = number & 15
        isHighByte = highByte && number < 4
    }

    public static let rax = Register(0), rcx = Register(1), rdx = Register(2), rbx = Register(3)
    public static let rsp = Register(4), rbp = Register(5), rsi = Register(6), rdi = Register(7)

    /// The register a ModRM reg or r/m field (with its REX bit already merged in) names at `width`.
    static func encoded(_ field: UInt8, width: DataWidth, hasREX: Bool) -> Register {
        if width == .byte && !hasREX && (4...7).contains(field) { return Register(field - 4, highByte: true) }
        return Register(field)
    }
}

/// A segment register, numbered as instructions encode them (ModRM sreg fields, the order of the override prefixes).
public enum Segment: UInt8, Equatable, Sendable {
    case es = 0, cs, ss, ds, fs, gs
}
