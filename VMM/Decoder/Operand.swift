/// One operand of a decoded instruction.
public enum Operand: Equatable, Sendable {
    case register(Register)
    case memory(MemoryOperand)
    /// The immediate as the operation uses it: sign-extended where the encoding says so and cut to the operand
    /// width (a bit offset for BT-family immediates).
    case immediate(UInt64)

    public var memory: MemoryOperand? {
        if case .memory(let operand) = self { return operand }
        return nil
    }

    public var register: Register? {
        if case .register(let register) = self { return register }
        return nil
    }

    public var immediate: UInt64? {
        if case .immediate(let value) = self { return value }
        return nil
    }
}
