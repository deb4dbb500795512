/// A ModRM byte and the SIB byte and displacement that may follow it: the operand addressing of most instructions.
/// `reg` and `rm` already carry REX.R and REX.B.
struct ModRM {
    let mod: UInt8
    let reg: UInt8
    let rm: UInt8

    init(_ byte: UInt8, rex: REX?) {
        mod = byte >> 6
        reg = (byte >> 3 & 7) | (rex?.r == true ? 8 : 0)
        rm = (byte & 7) | (rex?.b == true ? 8 : 0)
    }

    /// The reg field as a register of `width`.
    func regOperand(width: DataWidth, rex: REX?) -> Register {
        .encoded(reg, width: width, hasREX: rex != nil)
    }

    /// The r/m operand: a register of `width` (mod 3), else the memory operand, reading SIB and displacement.
    func rmOperand<Bytes>(_ reader: inout ByteReader<Bytes>, width: DataWidth, addressWidth: DataWidth,
                          prefixes: Prefixes, mode: CodeMode) throws(DecodeError) -> Operand {
        if mod == 3 { return .register(.encoded(rm, width: width, hasREX: prefixes.rex != nil)) }
        var memory = addressWidth == .word ? try memory16(&reader)
                                           : try memory32(&reader, addressWidth: addressWidth, rex: prefixes.rex,
                                                           mode: mode)
        if let segment = prefixes.segmentOverride { memory.segment = segment }
        return .memory(memory)
    }

    /// 16-bit addressing: fixed base/index pairs, no SIB, disp8 or disp16; [bp] alone is disp16 with mod 0.
    private func memory16<Bytes>(_ reader: inout ByteReader<Bytes>) throws(DecodeError) -> MemoryOperand {
        let field = rm & 7
        var memory = MemoryOperand(segment: .ds, addressWidth: .word)
        switch field {
        case 0: (memory.base, memory.index) = (3, 6)  // bx + si
        case 1: (memory.base, memory.index) = (3, 7)  // bx + di
        case 2: (memory.base, memory.index) = (5, 6)  // bp + si
        case 3: (memory.base, memory.index) = (5, 7)  // bp + di
        case 4: memory.base = 6  // si
        case 5: memory.base = 7  // di
        case 6: memory.base = mod == 0 ? nil : 5  // bp, or disp16 alone
        default: memory.base = 3  // bx
        }
        if memory.base == 5 { memory.segment = .ss }
        switch mod {
        case 0 where field == 6: memory.displacement = DataWidth.word.signExtend(try reader.value(.word))
        case 1: memory.displacement = DataWidth.byte.signExtend(try reader.value(.byte))
        case 2: memory.displacement = DataWidth.word.signExtend(try reader.value(.word))
        default: break
        }
        return memory
    }

    /// 32- and 64-bit addressing: r/m 4 brings a SIB byte, r/m 5 with mod 0 is disp32 alone (rip-relative in
    /// 64-bit mode), SIB base 5 with mod 0 likewise has no base. Only the low three bits of r/m and of the SIB
    /// base select these forms, so r12 and r13 need them like rsp and rbp do.
    private func memory32<Bytes>(_ reader: inout ByteReader<Bytes>, addressWidth: DataWidth,
                                 rex: REX?, mode: CodeMode) throws(DecodeError) -> MemoryOperand {
        var memory = MemoryOperand(segment: .ds, addressWidth: addressWidth)
        var hasDisp32 = mod == 2
        if rm & 7 == 4 {
            let sib = try reader.byte()
            let index = (sib >> 3 & 7) | (rex?.x == true ? 8 : 0)
            if index != 4 {
                memory.index = index
                memory.scale = 1 << (sib >> 6)
            }
            let base = (sib & 7) | (rex?.b == true ? 8 : 0)
            if base & 7 == 5 && mod == 0 {
                hasDisp32 = true
            } else {
                memory.base = base
            }
        } else if rm & 7 == 5 && mod == 0 {
            hasDisp32 = true
            memory.isRIPRelative = mode == .bits64
        } else {
            memory.base = rm
        }
        if memory.base == 4 || memory.base == 5 { memory.segment = .ss }
        if mod == 1 {
            memory.displacement = DataWidth.byte.signExtend(try reader.value(.byte))
        } else if hasDisp32 {
            memory.displacement = DataWidth.dword.signExtend(try reader.value(.dword))
        }
        return memory
    }
}
