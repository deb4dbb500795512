/// The few instructions the guest CPU must see before Unicorn runs them (Unicorn 2.1.4 cannot hook RDTSC, RDMSR,
/// WRMSR, XSETBV or HLT, runs SYSCALL as a no-op, and knows no intercepts), decoded from their bytes. Capstone only
/// finds where instructions start in a block; what they are and how long the interesting ones are is decided here.
public enum SimGuestInstruction: Equatable, Sendable {
    case cpuid, hlt, rdtsc, rdtscp, rdmsr, wrmsr, xsetbv, syscall, sysenter, sysexit
    case invlpg(SimGuestMemoryOperand)
    case io(port: UInt8?, size: Int, isIn: Bool, isString: Bool, isRep: Bool) // port nil: DX
    case movFromCR(cr: Int, gpr: Int)
    case movToCR(cr: Int, gpr: Int)
    case clts
    case lmsw(gpr: Int?) // nil: memory operand
    case smsw(gpr: Int?)
    case virtualization(SimGuestVirtualizationInstruction)

    /// Decodes the instruction at the start of `bytes` in a 16-, 32- or 64-bit code segment; nil when it is none of
    /// the above. Returns the instruction and its length.
    public static func decode(_ bytes: [UInt8], bits: Int) -> (SimGuestInstruction, Int)? {
        var i = 0
        var operandSize16 = bits == 16
        var addressBits = bits
        var rep = false
        var mandatory: UInt8 = 0 // 0x66, 0xf2 or 0xf3 as last seen
        var rex: UInt8 = 0
        func byte(_ at: Int) -> UInt8? { at < bytes.count ? bytes[at] : nil }
        prefixes: while let b = byte(i), i < 14 {
            switch b {
            case 0x66: operandSize16.toggle(); mandatory = b
            case 0x67: addressBits = bits == 64 ? 32 : (bits == 32 ? 16 : 32)
            case 0xf2, 0xf3: rep = true; mandatory = b
            case 0xf0, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65: break
            default: break prefixes
            }
            i += 1
        }
        if bits == 64, let b = byte(i), b & 0xf0 == 0x40 {
            rex = b
            i += 1
        }
        guard let op = byte(i) else { return nil }
        let wide = operandSize16 ? 2 : 4
        switch op {
        case 0xf4: return (.hlt, i + 1)
        case 0xe4, 0xe5, 0xe6, 0xe7:
            guard let port = byte(i + 1) else { return nil }
            return (.io(port: port, size: op & 1 == 0 ? 1 : wide, isIn: op < 0xe6, isString: false, isRep: false), i + 2)
        case 0xec, 0xed, 0xee, 0xef:
            return (.io(port: nil, size: op & 1 == 0 ? 1 : wide, isIn: op < 0xee, isString: false, isRep: false), i + 1)
        case 0x6c, 0x6d, 0x6e, 0x6f:
            return (.io(port: nil, size: op & 1 == 0 ? 1 : wide, isIn: op < 0x6e, isString: true, isRep: rep), i + 1)
        case 0x0f: break
        default: return nil
        }
        guard let op2 = byte(i + 1) else { return nil }
        let modrmAt = i + 2
        let modrm = byte(modrmAt)
        let reg = Int((modrm ?? 0) >> 3 & 7)
        let isRegisterForm = (modrm ?? 0) >> 6 == 3
        let rm = Int((modrm ?? 0) & 7) | (rex & 1 != 0 ? 8 : 0)
        func memoryOperand() -> (SimGuestMemoryOperand, Int)? {
            SimGuestMemoryOperand.decode(bytes, at: modrmAt, addressBits: addressBits, rex: rex)
        }
        func memoryOperandOrRegister(_ modrm: UInt8?) -> (SimGuestMemoryOperand?, Int)? {
            guard modrm != nil else { return nil }
            if isRegisterForm { return (nil, 1) }
            return memoryOperand().map { ($0.0, $0.1) }
        }
        switch op2 {
        case 0xa2: return (.cpuid, i + 2)
        case 0x31: return (.rdtsc, i + 2)
        case 0x32: return (.rdmsr, i + 2)
        case 0x30: return (.wrmsr, i + 2)
        case 0x05: return (.syscall, i + 2)
        case 0x34: return (.sysenter, i + 2)
        case 0x35: return (.sysexit, i + 2)
        case 0x06: return (.clts, i + 2)
        case 0x20, 0x22:
            guard modrm != nil else { return nil }
            let cr = reg | (rex & 4 != 0 ? 8 : 0)
            return (op2 == 0x20 ? .movFromCR(cr: cr, gpr: rm) : .movToCR(cr: cr, gpr: rm), i + 3)
        case 0x78 where mandatory == 0, 0x79 where mandatory == 0:
            guard let (_, length) = memoryOperandOrRegister(modrm) else { return nil }
            return (.virtualization(op2 == 0x78 ? .vmread : .vmwrite), modrmAt + length)
        case 0x38:
            guard mandatory == 0x66, let op3 = byte(i + 2), op3 == 0x80 || op3 == 0x81,
                  let (_, length) = SimGuestMemoryOperand.decode(bytes, at: i + 3, addressBits: addressBits, rex: rex)
            else { return nil }
            return (.virtualization(op3 == 0x80 ? .invept : .invvpid), i + 3 + length)
        case 0xc7:
            guard let modrm, !isRegisterForm, reg == 6 || reg == 7, let (_, length) = memoryOperand() else { return nil }
            let kind: SimGuestVirtualizationInstruction =
                reg == 7 ? .vmptrst : mandatory == 0x66 ? .vmclear : mandatory == 0xf3 ? .vmxon : .vmptrld
            _ = modrm
            return (.virtualization(kind), modrmAt + length)
        case 0x01:
            guard let modrm else { return nil }
            let fixed: [UInt8: SimGuestInstruction] = [
                0xd8: .virtualization(.vmrun), 0xd9: .virtualization(.vmmcall), 0xda: .virtualization(.vmload),
                0xdb: .virtualization(.vmsave), 0xdc: .virtualization(.stgi), 0xdd: .virtualization(.clgi),
                0xde: .virtualization(.skinit), 0xdf: .virtualization(.invlpga), 0xc1: .virtualization(.vmcall),
                0xc2: .virtualization(.vmlaunch), 0xc3: .virtualization(.vmresume), 0xc4: .virtualization(.vmxoff),
                0xd4: .virtualization(.vmfunc), 0xd1: .xsetbv, 0xf9: .rdtscp,
            ]
            if let known = fixed[modrm] { return (known, i + 3) }
            if isRegisterForm {
                if reg == 4 { return (.smsw(gpr: rm), i + 3) }
                if reg == 6 { return (.lmsw(gpr: rm), i + 3) }
                return nil
            }
            guard reg == 4 || reg == 6 || reg == 7, let (operand, length) = memoryOperand() else { return nil }
            switch reg {
            case 4: return (.smsw(gpr: nil), modrmAt + length)
            case 6: return (.lmsw(gpr: nil), modrmAt + length)
            default: return (.invlpg(operand), modrmAt + length)
            }
        default: return nil
        }
    }
}

/// A ModRM memory operand (enough to compute INVLPG's linear address): base + index * scale + displacement.
public struct SimGuestMemoryOperand: Equatable, Sendable {
    public var base: Int?   // general register number; nil: none
    public var index: Int?
    public var scale: UInt64 = 1
    public var displacement: Int64 = 0
    public var ripRelative = false
    public var addressBits = 64

    /// Decodes ModRM (+ SIB + displacement) at `at`; returns the operand and the bytes it took (ModRM included).
    static func decode(_ bytes: [UInt8], at: Int, addressBits: Int, rex: UInt8) -> (SimGuestMemoryOperand, Int)? {
        guard at < bytes.count else { return nil }
        let modrm = bytes[at]
        let mod = modrm >> 6, rm = Int(modrm & 7)
        var operand = SimGuestMemoryOperand(addressBits: addressBits)
        var length = 1
        func signed(_ offset: Int, _ count: Int) -> Int64? {
            guard offset + count <= bytes.count else { return nil }
            let raw = (0..<count).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * $1) }
            let shift = UInt64(64 - 8 * count)
            return Int64(bitPattern: raw << shift) >> Int64(shift)
        }
        if addressBits == 16 {
            let pairs: [(Int?, Int?)] = [(3, 6), (3, 7), (5, 6), (5, 7), (6, nil), (7, nil), (5, nil), (3, nil)]
            (operand.base, operand.index) = pairs[rm]
            if mod == 0 && rm == 6 { operand.base = nil; operand.index = nil }
            let dispSize = mod == 1 ? 1 : (mod == 2 || (mod == 0 && rm == 6)) ? 2 : 0
            guard let disp = dispSize == 0 ? 0 : signed(at + 1, dispSize) else { return nil }
            operand.displacement = disp
            return (operand, 1 + dispSize)
        }
        var baseNumber = rm | (rex & 1 != 0 ? 8 : 0)
        var noBase = false
        if rm == 4 {
            guard at + 1 < bytes.count else { return nil }
            let sib = bytes[at + 1]
            length += 1
            let index = Int(sib >> 3 & 7) | (rex & 2 != 0 ? 8 : 0)
            if index != 4 { operand.index = index; operand.scale = 1 << UInt64(sib >> 6) }
            baseNumber = Int(sib & 7) | (rex & 1 != 0 ? 8 : 0)
            if sib & 7 == 5 && mod == 0 { noBase = true }
        } else if rm == 5 && mod == 0 {
            noBase = true
            operand.ripRelative = addressBits == 64
        }
        operand.base = noBase ? nil : baseNumber
        let dispSize = mod == 1 ? 1 : (mod == 2 || noBase) ? 4 : 0
        guard let disp = dispSize == 0 ? 0 : signed(at + length, dispSize) else { return nil }
        operand.displacement = disp
        return (operand, length + dispSize)
    }

    /// The effective address with the registers of `state` (rip = the next instruction, for rip-relative forms).
    public func address(in state: SimGuestState, nextRip: UInt64) -> UInt64 {
        var value = UInt64(bitPattern: displacement)
        if ripRelative { value &+= nextRip }
        if let base { value &+= state[gpr: base] }
        if let index { value &+= state[gpr: index] &* scale }
        switch addressBits {
        case 16: return value & 0xffff
        case 32: return value & 0xffff_ffff
        default: return value
        }
    }
}
