/// Why bytes did not decode into an instruction the emulator performs.
public enum DecodeError: Error, Equatable, Sendable {
    /// The instruction continues past the `available` bytes given.
    case truncated(available: Int)
    /// The prefixes and instruction need more than 15 bytes (the processor raises #GP).
    case longerThan15Bytes
    /// An instruction the decoder does not handle (it cannot be an MMIO access the VMM emulates, or it is not one of
    /// the forms listed in VMM/Decoder/README.md), or an undefined encoding.
    case unsupported(Opcode, mode: CodeMode)
    /// LOCK on an instruction that cannot be locked or without a memory destination (the processor raises #UD).
    case lockNotAllowed(Opcode)

    public var description: String {
        switch self {
        case .truncated(let available): "instruction truncated after \(available) bytes"
        case .longerThan15Bytes: "instruction longer than 15 bytes"
        case .unsupported(let opcode, let mode): "unsupported instruction: opcode \(opcode.description) in \(mode.name) mode"
        case .lockNotAllowed(let opcode): "LOCK prefix not allowed on opcode \(opcode.description)"
        }
    }
}
