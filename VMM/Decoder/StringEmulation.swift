/// MOVS, STOS and LODS, once or under REP (F3, and F2, which repeats these the same way): each iteration moves one
/// element between ES:[rdi], DS:[rsi] (or its override) and the accumulator, then steps rsi and rdi by the element
/// size, down when DF is set. rcx, rsi and rdi are used at the address size (cx, ecx or rcx) and written back
/// after every iteration, so a fault leaves the completed iterations visible, as on the processor.
extension InstructionEmulator {
    func emulateString(_ instruction: DecodedInstruction, state: inout GuestCPUState, access: inout OperandAccess,
                       read: (UInt64, Int) -> UInt64?,
                       write: (UInt64, Int, UInt64) -> Bool) throws(EmulationError) -> EmulationOutcome {
        let width = instruction.operandWidth
        let addressWidth = instruction.addressWidth
        let mode = instruction.mode
        let step = state.rflags & RFlags.direction != 0 ? 0 &- UInt64(width.bytes) : UInt64(width.bytes)
        let repeated = instruction.prefixes.repeatPrefix != nil
        var remaining = repeated ? state.registers.read(.rcx, width: addressWidth) : 1
        var iterations = 0
        while remaining != 0 {
            if iterations == maximumRepeats { return .repeatPending }
            let value = try access.read(instruction.sourceOperand, width: width, state, read)
            try access.write(instruction.destination, width: width, value: value, &state, write)
            if instruction.operation != .stos { advance(.rsi, by: step, addressWidth, mode, &state) }
            if instruction.operation != .lods { advance(.rdi, by: step, addressWidth, mode, &state) }
            if repeated {
                remaining = addressWidth.truncate(remaining &- 1)
                state.registers.write(.rcx, width: addressWidth, value: remaining, mode: mode)
            } else {
                remaining = 0
            }
            iterations += 1
        }
        state.rip = instruction.nextInstruction(after: state.rip)
        return .completed
    }

    private func advance(_ register: Register, by step: UInt64, _ addressWidth: DataWidth, _ mode: CodeMode,
                         _ state: inout GuestCPUState) {
        let value = state.registers.read(register, width: addressWidth) &+ step
        state.registers.write(register, width: addressWidth, value: value, mode: mode)
    }
}
