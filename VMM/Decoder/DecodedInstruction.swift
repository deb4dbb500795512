/// One decoded instruction: its exact length (the VMM advances rip by it; QEMU's SVM reports none), what it does,
/// with which widths, prefixes and operands.
public struct DecodedInstruction: Equatable, Sendable {
    public var length: Int
    public var mode: CodeMode
    /// The opcode byte(s) it was decoded from (for reports, and to tell forms of one operation apart).
    public var opcode: Opcode
    public var operation: Operation
    /// The destination's width (for bit tests: the bit string's unit).
    public var operandWidth: DataWidth
    /// The source's width: differs from `operandWidth` for movzx and movsx (byte or word), movsxd (dword) and
    /// bit-test immediates (byte).
    public var sourceWidth: DataWidth
    public var addressWidth: DataWidth
    public var prefixes: Prefixes
    public var destination: Operand
    /// Nil for one-operand instructions (not, neg, inc, dec).
    public var source: Operand?

    public init(length: Int, mode: CodeMode, opcode: Opcode, operation: Operation, operandWidth: DataWidth, sourceWidth: DataWidth,
                addressWidth: DataWidth, prefixes: Prefixes, destination: Operand, source: Operand?) {
        self.length = length
        self.mode = mode
        self.opcode = opcode
        self.operation = operation
        self.operandWidth = operandWidth
        self.sourceWidth = sourceWidth
        self.addressWidth = addressWidth
        self.prefixes = prefixes
        self.destination = destination
        self.source = source
    }

    /// The memory operand (for movs: the destination; its source is `source`).
    public var memory: MemoryOperand? { destination.memory ?? source?.memory }

    /// The register operand, if one is not the memory operand (for xchg and mov between registers: the source).
    public var register: Register? { source?.register ?? destination.register }

    public var immediate: UInt64? { source?.immediate }
}
