import CUnicorn
import InstructionDecoder

/// Capstone (Debian's libcapstone, through CUnicorn's header) as the reference the decoder is checked against:
/// one handle per code mode in detail mode, and its view of an instruction in plain Swift values.
final class CapstoneReference {
    struct Instruction {
        let length: Int
        /// The mnemonic without prefixes ("rep movsb" -> "movsb").
        let mnemonic: String
        let text: String
        let operands: [Operand]
    }

    enum Operand {
        case register(name: String, size: Int)
        case immediate(Int64, size: Int)
        case memory(segment: String?, base: String?, index: String?, scale: Int, displacement: Int64, size: Int)
    }

    private var handles: [CodeMode: csh] = [:]
    private let instruction: UnsafeMutablePointer<cs_insn>

    init() {
        for (mode, csMode) in [(CodeMode.bits16, CS_MODE_16), (.bits32, CS_MODE_32), (.bits64, CS_MODE_64)] {
            var handle: csh = 0
            precondition(cs_open(CS_ARCH_X86, csMode, &handle) == CS_ERR_OK, "cs_open failed")
            precondition(cs_option(handle, CS_OPT_DETAIL, Int(CS_OPT_ON.rawValue)) == CS_ERR_OK, "CS_OPT_DETAIL")
            handles[mode] = handle
        }
        instruction = cs_malloc(handles[.bits64]!)
    }

    deinit {
        cs_free(instruction, 1)
        for var handle in handles.values { cs_close(&handle) }
    }

    /// The first instruction of `bytes` in `mode`, or nil when Capstone finds none.
    func disassemble(_ bytes: [UInt8], mode: CodeMode) -> Instruction? {
        let handle = handles[mode]!
        return Self.repeatPrefixesFirst(bytes, mode: mode).withUnsafeBufferPointer { buffer -> Instruction? in
            var code = buffer.baseAddress
            var size = buffer.count
            var address: UInt64 = 0x1000
            guard cs_disasm_iter(handle, &code, &size, &address, instruction) else { return nil }
            let insn = instruction.pointee
            let mnemonic = withUnsafeBytes(of: insn.mnemonic) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            let operandText = withUnsafeBytes(of: insn.op_str) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            let x86 = insn.detail.pointee.x86
            let operands = withUnsafeBytes(of: x86.operands) { raw -> [Operand] in
                let list = raw.bindMemory(to: cs_x86_op.self)
                return (0..<Int(x86.op_count)).map { convert(list[$0], handle: handle) }
            }
            return Instruction(length: Int(insn.size), mnemonic: String(mnemonic.split(separator: " ").last ?? ""),
                               text: mnemonic + " " + operandText, operands: operands)
        }
    }

    /// The same instruction with its F2/F3 prefixes moved in front of the other legacy prefixes. Capstone 4 takes
    /// a 66 before F2/F3 for an SSE mandatory-prefix pair: it then sizes operands as if 66 were absent, or refuses
    /// moffs forms. The processor does not care about the order of prefixes of different groups, and each group
    /// keeps its order; REX bytes voided by a later legacy prefix move to the very front, so they stay voided.
    static func repeatPrefixesFirst(_ bytes: [UInt8], mode: CodeMode) -> [UInt8] {
        let legacy: Set<UInt8> = [0xf0, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67]
        var end = 0
        var lastLegacy = -1
        while end < bytes.count && end < 15 {
            if legacy.contains(bytes[end]) {
                lastLegacy = end
            } else if !(mode == .bits64 && (0x40...0x4f).contains(bytes[end])) {
                break
            }
            end += 1
        }
        let region = bytes[..<(lastLegacy + 1)]
        guard region.contains(0x66) && (region.contains(0xf2) || region.contains(0xf3)) else { return bytes }
        let voidedREX = region.filter { !legacy.contains($0) }
        let repeats = region.filter { $0 == 0xf2 || $0 == 0xf3 }
        let others = region.filter { legacy.contains($0) && $0 != 0xf2 && $0 != 0xf3 }
        return voidedREX + repeats + others + bytes[(lastLegacy + 1)...]
    }

    private func convert(_ operand: cs_x86_op, handle: csh) -> Operand {
        let size = Int(operand.size)
        switch operand.type {
        case X86_OP_REG: return .register(name: name(operand.reg, handle) ?? "?", size: size)
        case X86_OP_IMM: return .immediate(operand.imm, size: size)
        default:
            let memory = operand.mem
            return .memory(segment: name(memory.segment, handle),
                           base: name(memory.base, handle),
                           index: name(memory.index, handle),
                           scale: Int(memory.scale), displacement: memory.disp, size: size)
        }
    }

    private func name(_ register: x86_reg, _ handle: csh) -> String? {
        guard register != X86_REG_INVALID, let text = cs_reg_name(handle, register.rawValue) else { return nil }
        return String(cString: text)
    }
}
