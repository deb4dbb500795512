/// The mode the guest's code runs in, which sets the default operand and address sizes and whether REX exists.
/// The VMM derives it from the code segment: CS.L (64-bit, in long mode) and CS.D (32-bit defaults).
public enum CodeMode: Equatable, Sendable {
    case bits16, bits32, bits64

    /// From the code segment's L and D bits. L with D set is reserved (#GP on load), so L alone decides 64-bit.
    public init(csLong: Bool, csDefaultBig: Bool) {
        self = csLong ? .bits64 : (csDefaultBig ? .bits32 : .bits16)
    }

    /// The operand size without 66 or REX.W (64-bit mode defaults to 32-bit operands).
    var defaultOperandWidth: DataWidth { self == .bits16 ? .word : .dword }

    /// The address size without 67.
    var defaultAddressWidth: DataWidth {
        switch self {
        case .bits16: .word
        case .bits32: .dword
        case .bits64: .qword
        }
    }

    var name: String {
        switch self {
        case .bits16: "16-bit"
        case .bits32: "32-bit"
        case .bits64: "64-bit"
        }
    }
}
