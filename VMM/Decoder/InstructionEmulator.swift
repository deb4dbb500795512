/// Performs decoded instructions on a guest's state, with memory reached only through the caller's `read` and
/// `write` (of a linear address and a size of 1, 2, 4 or 8 bytes; the VMM translates and routes them to a device
/// or to RAM). Reads return the value in the low bytes, nil when the access fails; writes return false then.
public struct InstructionEmulator: Sendable {
    /// The most iterations of a REP string instruction one call performs (see `EmulationOutcome.repeatPending`).
    public let maximumRepeats: Int

    public init(maximumRepeats: Int = 1024) { self.maximumRepeats = max(1, maximumRepeats) }

    public func emulate(_ instruction: DecodedInstruction, state: inout GuestCPUState,
                        read: (_ address: UInt64, _ size: Int) -> UInt64?,
                        write: (_ address: UInt64, _ size: Int, _ value: UInt64) -> Bool)
        throws(EmulationError) -> EmulationOutcome {
        var access = OperandAccess(instruction: instruction)
        if instruction.operation.isString {
            return try emulateString(instruction, state: &state, access: &access, read: read, write: write)
        }
        let width = instruction.operandWidth
        let unit = ArithmeticUnit(width: width)
        var result: ArithmeticUnit.Result?

        switch instruction.operation {
        case .mov, .movzx:
            let value = try access.read(instruction.sourceOperand, width: instruction.sourceWidth, state, read)
            try access.write(instruction.destination, width: width, value: value, &state, write)
        case .movsx, .movsxd:
            let value = try access.read(instruction.sourceOperand, width: instruction.sourceWidth, state, read)
            try access.write(instruction.destination, width: width,
                             value: instruction.sourceWidth.signExtend(value), &state, write)
        case .xchg:
            // The memory operand is the destination: its read and write come before the register write.
            let old = try access.read(instruction.destination, width: width, state, read)
            let other = try access.read(instruction.sourceOperand, width: width, state, read)
            try access.write(instruction.destination, width: width, value: other, &state, write)
            try access.write(instruction.sourceOperand, width: width, value: old, &state, write)
        case .add, .or, .adc, .sbb, .and, .sub, .xor, .cmp, .test:
            let left = try access.read(instruction.destination, width: width, state, read)
            let right = try access.read(instruction.sourceOperand, width: width, state, read)
            let computed = unit.perform(instruction.operation, left, right, carry: state.rflags & RFlags.carry != 0)
            if instruction.operation != .cmp && instruction.operation != .test {
                try access.write(instruction.destination, width: width, value: computed.value, &state, write)
            }
            result = computed
        case .not:
            let value = try access.read(instruction.destination, width: width, state, read)
            try access.write(instruction.destination, width: width, value: ~value, &state, write)
        case .neg, .inc, .dec:
            let value = try access.read(instruction.destination, width: width, state, read)
            let computed = instruction.operation == .neg ? unit.negate(value)
                                                          : unit.increment(value, by: instruction.operation)
            try access.write(instruction.destination, width: width, value: computed.value, &state, write)
            result = computed
        case .bt, .bts, .btr, .btc:
            try emulateBitTest(instruction, state: &state, access: &access, read: read, write: write)
        case .movs, .stos, .lods:
            break  // handled above
        }
        if let result { state.rflags = (state.rflags & ~result.affected) | (result.flags & result.affected) }
        state.rip = instruction.nextInstruction(after: state.rip)
        return .completed
    }

    /// BT, BTS, BTR, BTC: CF gets the bit; the others also complement, set or clear it. A register bit offset
    /// into memory addresses a bit string: its signed value selects the operand-sized unit before or after the
    /// memory operand, not just a bit in it. OF, SF, AF, PF (undefined) and ZF are left as they were.
    private func emulateBitTest(_ instruction: DecodedInstruction, state: inout GuestCPUState,
                                access: inout OperandAccess,
                                read: (UInt64, Int) -> UInt64?,
                                write: (UInt64, Int, UInt64) -> Bool) throws(EmulationError) {
        let width = instruction.operandWidth
        let bits = UInt64(width.bits)
        let offset: UInt64
        if case .register(let register)? = instruction.source {
            offset = state.registers.read(register, width: width)
            if instruction.destination.memory != nil {
                let units = Int64(bitPattern: width.signExtend(offset)) >> Int64(bits.trailingZeroBitCount)
                access.adjustment = UInt64(bitPattern: units &* Int64(width.bytes))
            }
        } else {
            offset = instruction.immediate ?? 0
        }
        let mask: UInt64 = 1 << (offset & (bits - 1))
        let value = try access.read(instruction.destination, width: width, state, read)
        let updated: UInt64
        switch instruction.operation {
        case .bts: updated = value | mask
        case .btr: updated = value & ~mask
        case .btc: updated = value ^ mask
        default: updated = value
        }
        if instruction.operation != .bt {
            try access.write(instruction.destination, width: width, value: updated, &state, write)
        }
        state.rflags = value & mask != 0 ? state.rflags | RFlags.carry : state.rflags & ~RFlags.carry
    }
}

extension DecodedInstruction {
    /// rip after this instruction at `rip`, wrapped as the instruction pointer wraps in its mode (what the VMM
    /// sets when it completes an instruction itself).
    public func nextInstruction(after rip: UInt64) -> UInt64 {
        let next = rip &+ UInt64(length)
        switch mode {
        case .bits64: return next
        case .bits32: return next & 0xffff_ffff
        case .bits16: return next & 0xffff
        }
    }

    /// The source operand; instructions without one (not, neg, inc, dec) read none through it.
    var sourceOperand: Operand { source ?? .immediate(0) }
}
