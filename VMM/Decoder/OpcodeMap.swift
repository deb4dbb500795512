/// The opcodes the decoder knows: which operation each performs and where its operands are. Only opcodes that can
/// access memory are here (an instruction that cannot touch memory cannot fault on an MMIO page).
struct OpcodeEntry {
    let operation: Operation
    let form: OperandForm
    /// Byte operands (the low opcode bit clear in most pairs); otherwise the operand size from mode, 66 and REX.W.
    let byteOperands: Bool
}

/// Where an opcode's operands come from.
enum OperandForm: Equatable {
    /// ModRM r/m is the destination, ModRM reg the source (88, 00, 84, 86, 0F A3).
    case rmFromReg
    /// ModRM reg is the destination, ModRM r/m the source (8A, 02).
    case regFromRM
    /// ModRM reg is the destination, ModRM r/m a narrower source to extend (0F B6, 0F BE, 63).
    case regFromNarrowRM(DataWidth)
    /// ModRM r/m is the destination, an immediate the source (C6, 80-83, F6 /0, 0F BA).
    case rmImmediate(ImmediateForm)
    /// ModRM r/m is the only operand (F6 /2, FE /0).
    case rmOnly
    /// The accumulator and a memory offset as wide as the address size, no ModRM (A0, A1: load; A2, A3: store).
    case accumulatorFromOffset, offsetFromAccumulator
    /// String operands, no ModRM (A4, AA, AC).
    case string

    var hasModRM: Bool {
        switch self {
        case .accumulatorFromOffset, .offsetFromAccumulator, .string: false
        default: true
        }
    }
}

/// How an immediate is encoded.
enum ImmediateForm: Equatable {
    /// As wide as the operand, at most 32 bits (sign-extended for 64-bit operands).
    case operandSized
    /// One byte, sign-extended to the operand (83).
    case signExtendedByte
    /// One byte as is (bit offsets of 0F BA).
    case byte
}

enum OpcodeMap {
    /// Whether the opcode's ModRM reg field selects the operation, so it must be read before `entry`.
    static func isGroup(twoByte: Bool, _ byte: UInt8) -> Bool {
        if twoByte { return byte == 0xba }
        switch byte {
        case 0x80, 0x81, 0x83, 0xc6, 0xc7, 0xf6, 0xf7, 0xfe, 0xff: return true
        default: return false
        }
    }

    /// The entry for an opcode (`group`: the ModRM reg field of a group opcode), or nil when it is not supported.
    static func entry(twoByte: Bool, _ byte: UInt8, group: UInt8, mode: CodeMode) -> OpcodeEntry? {
        twoByte ? twoByteEntry(byte, group: group) : oneByteEntry(byte, group: group, mode: mode)
    }

    private static func oneByteEntry(_ byte: UInt8, group: UInt8, mode: CodeMode) -> OpcodeEntry? {
        let isByte = byte & 1 == 0
        switch byte {
        // add, or, adc, sbb, and, sub, xor, cmp with a ModRM operand (the accumulator-immediate forms 04/05... are
        // register-only).
        case 0x00...0x3f where byte & 7 <= 3:
            let form: OperandForm = byte & 2 == 0 ? .rmFromReg : .regFromRM
            return OpcodeEntry(operation: .arithmetic(byte >> 3), form: form, byteOperands: isByte)
        case 0x80, 0x81:
            return OpcodeEntry(operation: .arithmetic(group), form: .rmImmediate(.operandSized), byteOperands: isByte)
        case 0x83:
            return OpcodeEntry(operation: .arithmetic(group), form: .rmImmediate(.signExtendedByte), byteOperands: false)
        case 0x63 where mode == .bits64:
            return OpcodeEntry(operation: .movsxd, form: .regFromNarrowRM(.dword), byteOperands: false)
        case 0x84, 0x85:
            return OpcodeEntry(operation: .test, form: .rmFromReg, byteOperands: isByte)
        case 0x86, 0x87:
            return OpcodeEntry(operation: .xchg, form: .rmFromReg, byteOperands: isByte)
        case 0x88, 0x89:
            return OpcodeEntry(operation: .mov, form: .rmFromReg, byteOperands: isByte)
        case 0x8a, 0x8b:
            return OpcodeEntry(operation: .mov, form: .regFromRM, byteOperands: isByte)
        case 0xa0, 0xa1:
            return OpcodeEntry(operation: .mov, form: .accumulatorFromOffset, byteOperands: isByte)
        case 0xa2, 0xa3:
            return OpcodeEntry(operation: .mov, form: .offsetFromAccumulator, byteOperands: isByte)
        case 0xa4, 0xa5:
            return OpcodeEntry(operation: .movs, form: .string, byteOperands: isByte)
        case 0xaa, 0xab:
            return OpcodeEntry(operation: .stos, form: .string, byteOperands: isByte)
        case 0xac, 0xad:
            return OpcodeEntry(operation: .lods, form: .string, byteOperands: isByte)
        case 0xc6 where group == 0, 0xc7 where group == 0:
            return OpcodeEntry(operation: .mov, form: .rmImmediate(.operandSized), byteOperands: isByte)
        // F6 /1 and F7 /1 are TEST too on Intel and AMD processors (an undocumented alias).
        case 0xf6 where group <= 1, 0xf7 where group <= 1:
            return OpcodeEntry(operation: .test, form: .rmImmediate(.operandSized), byteOperands: isByte)
        case 0xf6 where group == 2, 0xf7 where group == 2:
            return OpcodeEntry(operation: .not, form: .rmOnly, byteOperands: isByte)
        case 0xf6 where group == 3, 0xf7 where group == 3:
            return OpcodeEntry(operation: .neg, form: .rmOnly, byteOperands: isByte)
        case 0xfe where group <= 1, 0xff where group <= 1:
            return OpcodeEntry(operation: group == 0 ? .inc : .dec, form: .rmOnly, byteOperands: isByte)
        default:
            return nil
        }
    }

    private static func twoByteEntry(_ byte: UInt8, group: UInt8) -> OpcodeEntry? {
        switch byte {
        case 0xb6: OpcodeEntry(operation: .movzx, form: .regFromNarrowRM(.byte), byteOperands: false)
        case 0xb7: OpcodeEntry(operation: .movzx, form: .regFromNarrowRM(.word), byteOperands: false)
        case 0xbe: OpcodeEntry(operation: .movsx, form: .regFromNarrowRM(.byte), byteOperands: false)
        case 0xbf: OpcodeEntry(operation: .movsx, form: .regFromNarrowRM(.word), byteOperands: false)
        case 0xa3: OpcodeEntry(operation: .bt, form: .rmFromReg, byteOperands: false)
        case 0xab: OpcodeEntry(operation: .bts, form: .rmFromReg, byteOperands: false)
        case 0xb3: OpcodeEntry(operation: .btr, form: .rmFromReg, byteOperands: false)
        case 0xbb: OpcodeEntry(operation: .btc, form: .rmFromReg, byteOperands: false)
        case 0xba where group == 4: OpcodeEntry(operation: .bt, form: .rmImmediate(.byte), byteOperands: false)
        case 0xba where group == 5: OpcodeEntry(operation: .bts, form: .rmImmediate(.byte), byteOperands: false)
        case 0xba where group == 6: OpcodeEntry(operation: .btr, form: .rmImmediate(.byte), byteOperands: false)
        case 0xba where group == 7: OpcodeEntry(operation: .btc, form: .rmImmediate(.byte), byteOperands: false)
        default: nil
        }
    }
}
