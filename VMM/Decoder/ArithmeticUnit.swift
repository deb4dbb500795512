/// The results and status flags of the arithmetic and logic operations, at a width, as the processor computes
/// them: CF is the unsigned carry or borrow out of the width, OF the signed overflow, AF the carry or borrow out
/// of bit 3, PF the even parity of the low byte, ZF and SF of the result. Logic operations clear CF, OF and AF
/// (AF is architecturally undefined there; Intel and AMD processors clear it, as QEMU and Bochs do).
struct ArithmeticUnit {
    let width: DataWidth

    /// The result and the new status flags; `affected` are the flags the operation writes (inc and dec keep CF).
    struct Result {
        let value: UInt64
        let flags: UInt64
        let affected: UInt64
    }

    /// `left op right` for add, or, adc, sbb, and, sub, xor, cmp, test; `carry` is CF before (adc, sbb).
    func perform(_ operation: Operation, _ left: UInt64, _ right: UInt64, carry: Bool) -> Result {
        let a = width.truncate(left), b = width.truncate(right)
        switch operation {
        case .add, .adc, .inc:
            let carryIn: UInt64 = operation == .adc && carry ? 1 : 0
            let value = width.truncate(a &+ b &+ carryIn)
            // Unsigned carry out: the sum wrapped below an operand, or equals it with a carry-in of a full b.
            let carryOut = value < a || (carryIn == 1 && value == a)
            let overflow = width.isNegative((a ^ value) & (b ^ value))
            return finish(value, carry: carryOut, overflow: overflow, adjust: (a ^ b ^ value) & 0x10 != 0,
                          keepsCarry: operation == .inc)
        case .sub, .sbb, .cmp, .dec, .neg:
            let borrowIn: UInt64 = operation == .sbb && carry ? 1 : 0
            let value = width.truncate(a &- b &- borrowIn)
            let borrowOut = a < b || (borrowIn == 1 && a == b)
            let overflow = width.isNegative((a ^ b) & (a ^ value))
            return finish(value, carry: borrowOut, overflow: overflow, adjust: (a ^ b ^ value) & 0x10 != 0,
                          keepsCarry: operation == .dec)
        case .and, .test: return finish(a & b, carry: false, overflow: false, adjust: false, keepsCarry: false)
        case .or: return finish(a | b, carry: false, overflow: false, adjust: false, keepsCarry: false)
        case .xor: return finish(a ^ b, carry: false, overflow: false, adjust: false, keepsCarry: false)
        default: return Result(value: a, flags: 0, affected: 0)
        }
    }

    /// inc and dec: add or subtract 1, CF untouched.
    func increment(_ value: UInt64, by operation: Operation) -> Result {
        perform(operation, value, 1, carry: false)
    }

    /// neg: 0 - value (CF set unless the value is 0).
    func negate(_ value: UInt64) -> Result { perform(.neg, 0, value, carry: false) }

    private func finish(_ value: UInt64, carry: Bool, overflow: Bool, adjust: Bool, keepsCarry: Bool) -> Result {
        var flags: UInt64 = 0
        if carry { flags |= RFlags.carry }
        if (value & 0xff).nonzeroBitCount & 1 == 0 { flags |= RFlags.parity }
        if adjust { flags |= RFlags.adjust }
        if value == 0 { flags |= RFlags.zero }
        if width.isNegative(value) { flags |= RFlags.sign }
        if overflow { flags |= RFlags.overflow }
        let affected = keepsCarry ? RFlags.status & ~RFlags.carry : RFlags.status
        return Result(value: value, flags: flags, affected: affected)
    }
}
