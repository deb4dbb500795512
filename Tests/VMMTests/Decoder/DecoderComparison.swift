import InstructionDecoder

/// What Capstone must show for a decoded instruction: the mnemonic, the operand size and each operand. Where
/// Capstone 4.0.2 reports something other than the processor does, the exception is here, named.
enum DecoderComparison {
    /// Nil when they agree, else what differs.
    static func mismatch(_ ours: DecodedInstruction, _ reference: CapstoneReference.Instruction) -> String? {
        let expectedMnemonic = mnemonic(ours)
        // Capstone 4 names 64-bit-mode moffs forms with a 32-bit address (67) mov or movabs, by other prefixes.
        let eitherMoffsName = expectedMnemonic == "mov" && ours.mode == .bits64 && ours.memory?.base == nil
            && !ours.opcode.isTwoByte && (0xa0...0xa3).contains(ours.opcode.byte) && reference.mnemonic == "movabs"
        guard reference.mnemonic == expectedMnemonic || eitherMoffsName else {
            return "mnemonic \(expectedMnemonic), Capstone \(reference.mnemonic)"
        }
        let operands = [ours.destination] + (ours.source.map { [$0] } ?? [])
        guard operands.count == reference.operands.count else {
            return "\(operands.count) operands, Capstone \(reference.operands.count)"
        }
        for (position, (operand, theirs)) in zip(operands, reference.operands).enumerated() {
            let width = position == 0 ? ours.operandWidth : ours.sourceWidth
            // Capstone 4 gives MOVSXD without REX.W a 64-bit destination and a 32-bit source; the SDM and the
            // processors use the operand size for both (it then moves 32 or 16 bits).
            let movsxdWithoutW = ours.operation == .movsxd && ours.operandWidth != .qword
            if let problem = mismatch(operand, width: width, theirs, ours, skipSize: movsxdWithoutW) {
                return "operand \(position + 1): \(problem)"
            }
        }
        return nil
    }

    private static func mismatch(_ operand: Operand, width: DataWidth, _ theirs: CapstoneReference.Operand,
                                 _ instruction: DecodedInstruction, skipSize: Bool) -> String? {
        switch (operand, theirs) {
        case (.register(let register), .register(let name, let size)):
            if skipSize { return nil }
            let expected = registerName(register, width: width)
            return expected == name && size == width.bytes ? nil : "register \(expected), Capstone \(name)/\(size)"
        case (.immediate(let value), .immediate(let theirValue, _)):
            let mask = instruction.sourceWidth.mask
            return value & mask == UInt64(bitPattern: theirValue) & mask
                ? nil : "immediate \(value), Capstone \(theirValue)"
        case (.memory(let memory), .memory(let segment, let base, let index, let scale, let displacement, let size)):
            var problems: [String] = []
            if !skipSize && size != width.bytes { problems.append("size \(width.bytes), Capstone \(size)") }
            let expectedBase = memory.isRIPRelative ? (memory.addressWidth == .qword ? "rip" : "eip")
                                                    : memory.base.map { registerName(Register($0), width: memory.addressWidth) }
            if expectedBase != base { problems.append("base \(expectedBase ?? "none"), Capstone \(base ?? "none")") }
            let expectedIndex = memory.index.map { registerName(Register($0), width: memory.addressWidth) }
            if expectedIndex != index { problems.append("index \(expectedIndex ?? "none"), Capstone \(index ?? "none")") }
            // Capstone reports the SIB scale even without an index (it means nothing then).
            if memory.index != nil && Int(memory.scale) != scale { problems.append("scale \(memory.scale), Capstone \(scale)") }
            if (memory.displacement ^ UInt64(bitPattern: displacement)) & memory.addressWidth.mask != 0 {
                problems.append("displacement \(memory.displacement), Capstone \(displacement)")
            }
            let expectedSegment = capstoneSegment(memory, instruction)
            if expectedSegment != segment {
                problems.append("segment \(expectedSegment ?? "none"), Capstone \(segment ?? "none")")
            }
            return problems.isEmpty ? nil : problems.joined(separator: ", ")
        default:
            return "operand kind differs (Capstone \(theirs))"
        }
    }

    /// Capstone names a segment only where an override prefix applies, and the string destination's ES outside
    /// 64-bit mode. The decoder gives every operand its segment, so this also checks that an override reached it.
    private static func capstoneSegment(_ memory: MemoryOperand, _ instruction: DecodedInstruction) -> String? {
        let isStringDestination = instruction.operation.isString && memory.base == 7 && memory.segment == .es
            && instruction.destination.memory == memory
        if isStringDestination { return instruction.mode == .bits64 ? nil : "es" }
        guard let override = instruction.prefixes.segmentOverride else { return nil }
        return memory.segment == override ? segmentName(override) : "override \(segmentName(override)) not applied"
    }

    static func mnemonic(_ instruction: DecodedInstruction) -> String {
        let suffix: String
        switch instruction.operandWidth {
        case .byte: suffix = "b"
        case .word: suffix = "w"
        case .dword: suffix = "d"
        case .qword: suffix = "q"
        }
        switch instruction.operation {
        case .movs: return "movs" + suffix
        case .stos: return "stos" + suffix
        case .lods: return "lods" + suffix
        case .mov where !instruction.opcode.isTwoByte && (0xa0...0xa3).contains(instruction.opcode.byte)
                        && instruction.addressWidth == .qword:
            return "movabs"
        default: return "\(instruction.operation)"
        }
    }

    static func registerName(_ register: Register, width: DataWidth) -> String {
        let number = Int(register.number)
        if register.isHighByte { return ["ah", "ch", "dh", "bh"][number] }
        let legacy = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"]
        if number >= 8 {
            let suffix = [DataWidth.byte: "b", .word: "w", .dword: "d", .qword: ""][width]!
            return "r\(number)" + suffix
        }
        switch width {
        case .byte: return ["al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil"][number]
        case .word: return legacy[number]
        case .dword: return "e" + legacy[number]
        case .qword: return "r" + legacy[number]
        }
    }

    static func segmentName(_ segment: Segment) -> String {
        ["es", "cs", "ss", "ds", "fs", "gs"][Int(segment.rawValue)]
    }
}
