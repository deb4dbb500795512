/// Reads and writes one instruction's operands: registers by x86's merge rules, memory through the caller's
/// callbacks at the operand's linear address (one `MemoryOperand.effectiveAddress` computation for all).
struct OperandAccess {
    let instruction: DecodedInstruction
    /// Added to memory operands' effective address before wrapping (the unit a BT register offset selects).
    var adjustment: UInt64 = 0

    init(instruction: DecodedInstruction) { self.instruction = instruction }

    func linearAddress(_ memory: MemoryOperand, width: DataWidth,
                       _ state: GuestCPUState) throws(EmulationError) -> UInt64 {
        let offset = memory.effectiveAddress(registers: state.registers,
                                             nextInstruction: instruction.nextInstruction(after: state.rip),
                                             adjustment: adjustment)
        let linear = memory.linearAddress(offset: offset, mode: instruction.mode, segmentBases: state.segmentBases)
        if instruction.mode == .bits64 {
            // Every byte must be canonical: check the first and the last.
            guard Self.isCanonical(linear) && Self.isCanonical(linear &+ UInt64(width.bytes - 1)) else {
                throw .nonCanonicalAddress(linear, segment: memory.segment)
            }
        }
        return linear
    }

    func read(_ operand: Operand, width: DataWidth, _ state: GuestCPUState,
              _ read: (UInt64, Int) -> UInt64?) throws(EmulationError) -> UInt64 {
        switch operand {
        case .register(let register): return state.registers.read(register, width: width)
        case .immediate(let value): return width.truncate(value)
        case .memory(let memory):
            let address = try linearAddress(memory, width: width, state)
            guard let value = read(address, width.bytes) else { throw .readFailed(address: address, size: width.bytes) }
            return width.truncate(value)
        }
    }

    func write(_ operand: Operand, width: DataWidth, value: UInt64, _ state: inout GuestCPUState,
               _ write: (UInt64, Int, UInt64) -> Bool) throws(EmulationError) {
        switch operand {
        case .register(let register):
            state.registers.write(register, width: width, value: value, mode: instruction.mode)
        case .immediate:
            break  // no instruction has an immediate destination
        case .memory(let memory):
            let address = try linearAddress(memory, width: width, state)
            guard write(address, width.bytes, width.truncate(value)) else {
                throw .writeFailed(address: address, size: width.bytes)
            }
        }
    }

    /// Bits 63-47 all equal (48-bit linear addresses; 5-level paging's 57-bit addresses are not handled).
    static func isCanonical(_ address: UInt64) -> Bool {
        let top = Int64(bitPattern: address) >> 47
        return top == 0 || top == -1
    }
}
