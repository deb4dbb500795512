/// Decodes the instruction at the start of `bytes` (the guest's bytes at rip; at most the first 15 are looked at)
/// in `mode`. Errors name what was wrong: the bytes ran out, the instruction is too long, the opcode is not
/// supported, or a LOCK prefix is misplaced.
public func decodeInstruction<Bytes: RandomAccessCollection<UInt8>>(
    _ bytes: Bytes, mode: CodeMode
) throws(DecodeError) -> DecodedInstruction {
    var reader = ByteReader(bytes)
    let prefixes = try Prefixes.read(&reader, mode: mode)

    var opcodeByte = try reader.byte()
    let isTwoByte = opcodeByte == 0x0f
    if isTwoByte { opcodeByte = try reader.byte() }
    // Group opcodes need the ModRM byte to be named; peek it, the operand decoding below consumes it.
    let group: UInt8? = OpcodeMap.isGroup(twoByte: isTwoByte, opcodeByte) ? try reader.peek() >> 3 & 7 : nil
    let opcode = Opcode(twoByte: isTwoByte, opcodeByte, group: group)
    guard let entry = OpcodeMap.entry(twoByte: isTwoByte, opcodeByte, group: group ?? 0, mode: mode) else {
        throw .unsupported(opcode, mode: mode)
    }

    let operandWidth: DataWidth
    if entry.byteOperands {
        operandWidth = .byte
    } else if prefixes.rex?.w == true {
        operandWidth = .qword
    } else if prefixes.operandSizeOverride {
        operandWidth = mode == .bits16 ? .dword : .word
    } else {
        operandWidth = mode.defaultOperandWidth
    }
    let addressWidth: DataWidth
    switch (mode, prefixes.addressSizeOverride) {
    case (.bits64, true): addressWidth = .dword
    case (.bits32, true): addressWidth = .word
    case (.bits16, true): addressWidth = .dword
    default: addressWidth = mode.defaultAddressWidth
    }

    var sourceWidth = operandWidth
    let destination: Operand
    var source: Operand?
    let rex = prefixes.rex
    if entry.form.hasModRM {
        let modrm = ModRM(try reader.byte(), rex: rex)
        switch entry.form {
        case .rmFromReg:
            destination = try modrm.rmOperand(&reader, width: operandWidth, addressWidth: addressWidth,
                                              prefixes: prefixes, mode: mode)
            source = .register(modrm.regOperand(width: operandWidth, rex: rex))
        case .regFromRM:
            destination = .register(modrm.regOperand(width: operandWidth, rex: rex))
            source = try modrm.rmOperand(&reader, width: operandWidth, addressWidth: addressWidth,
                                         prefixes: prefixes, mode: mode)
        case .regFromNarrowRM(let narrow):
            // MOVSXD without REX.W moves as wide as its operand size (the SDM's r16/r32 forms).
            if entry.operation != .movsxd || operandWidth == .qword { sourceWidth = narrow }
            destination = .register(modrm.regOperand(width: operandWidth, rex: rex))
            source = try modrm.rmOperand(&reader, width: sourceWidth, addressWidth: addressWidth,
                                         prefixes: prefixes, mode: mode)
        case .rmImmediate(let immediate):
            destination = try modrm.rmOperand(&reader, width: operandWidth, addressWidth: addressWidth,
                                              prefixes: prefixes, mode: mode)
            switch immediate {
            case .operandSized:
                let encoded = operandWidth == .qword ? DataWidth.dword : operandWidth
                source = .immediate(operandWidth.truncate(encoded.signExtend(try reader.value(encoded))))
            case .signExtendedByte:
                source = .immediate(operandWidth.truncate(DataWidth.byte.signExtend(try reader.value(.byte))))
            case .byte:
                sourceWidth = .byte
                source = .immediate(try reader.value(.byte))
            }
        default:
            destination = try modrm.rmOperand(&reader, width: operandWidth, addressWidth: addressWidth,
                                              prefixes: prefixes, mode: mode)
        }
    } else {
        let accumulator = Operand.register(.rax)
        switch entry.form {
        case .accumulatorFromOffset, .offsetFromAccumulator:
            let offset = MemoryOperand(segment: prefixes.segmentOverride ?? .ds,
                                       displacement: try reader.value(addressWidth), addressWidth: addressWidth)
            if entry.form == .accumulatorFromOffset {
                (destination, source) = (accumulator, .memory(offset))
            } else {
                (destination, source) = (.memory(offset), accumulator)
            }
        default:
            // ES:[rdi] cannot be overridden; DS:[rsi] can.
            let stringDestination = Operand.memory(MemoryOperand(segment: .es, base: 7, addressWidth: addressWidth))
            let stringSource = Operand.memory(MemoryOperand(segment: prefixes.segmentOverride ?? .ds, base: 6,
                                                            addressWidth: addressWidth))
            switch entry.operation {
            case .movs: (destination, source) = (stringDestination, stringSource)
            case .stos: (destination, source) = (stringDestination, accumulator)
            default: (destination, source) = (accumulator, stringSource)
            }
        }
    }

    if prefixes.lock && !(entry.operation.isLockable && destination.memory != nil) {
        throw .lockNotAllowed(opcode)
    }
    return DecodedInstruction(length: reader.position, mode: mode, opcode: opcode, operation: entry.operation,
                              operandWidth: operandWidth, sourceWidth: sourceWidth, addressWidth: addressWidth,
                              prefixes: prefixes, destination: destination, source: source)
}
