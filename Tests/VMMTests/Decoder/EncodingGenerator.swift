import InstructionDecoder

/// Seeded generator of encodings of the instructions the decoder supports: legacy prefixes in random order and
/// number, REX (also the ignored kind before a legacy prefix), every ModRM/SIB form, disp8/disp16/disp32,
/// rip-relative, immediates and moffs of every width, then random trailing bytes. Deterministic for a seed, so a
/// failure replays. It knows each encoding's length, a third opinion beside the decoder's and Capstone's.
struct EncodingGenerator {
    struct Encoding {
        let bytes: [UInt8]
        let mode: CodeMode
        /// Prefixes through immediate, as built (may exceed 15: then the instruction is invalid).
        let length: Int
        /// Legacy and REX prefixes: the bytes before the opcode.
        let prefixLength: Int
    }

    private var random: SplitMix64

    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    /// How an opcode's operands are encoded after it.
    private enum Shape { case modrm, modrmImm8, modrmImmOperand, moffs, none }

    private struct Template {
        let opcode: [UInt8]
        let shape: Shape
        /// The ModRM reg field a group opcode needs.
        let group: UInt8?
        let only64: Bool
    }

    private static let templates: [Template] = {
        var list: [Template] = []
        func add(_ opcode: [UInt8], _ shape: Shape, group: UInt8? = nil, only64: Bool = false) {
            list.append(Template(opcode: opcode, shape: shape, group: group, only64: only64))
        }
        for row in stride(from: UInt8(0), through: 0x38, by: 8) {
            for low in UInt8(0)...3 { add([row | low], .modrm) }
        }
        for field in UInt8(0)...7 {
            add([0x80], .modrmImm8, group: field)
            add([0x81], .modrmImmOperand, group: field)
            add([0x83], .modrmImm8, group: field)
        }
        for opcode: UInt8 in [0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b] { add([opcode], .modrm) }
        add([0x63], .modrm, only64: true)
        for opcode: UInt8 in [0xa0, 0xa1, 0xa2, 0xa3] { add([opcode], .moffs) }
        for opcode: UInt8 in [0xa4, 0xa5, 0xaa, 0xab, 0xac, 0xad] { add([opcode], .none) }
        add([0xc6], .modrmImm8, group: 0)
        add([0xc7], .modrmImmOperand, group: 0)
        for field: UInt8 in [0, 1] {
            add([0xf6], .modrmImm8, group: field)
            add([0xf7], .modrmImmOperand, group: field)
            add([0xfe], .modrm, group: field)
            add([0xff], .modrm, group: field)
        }
        for field: UInt8 in [2, 3] {
            add([0xf6], .modrm, group: field)
            add([0xf7], .modrm, group: field)
        }
        for opcode: UInt8 in [0xb6, 0xb7, 0xbe, 0xbf, 0xa3, 0xab, 0xb3, 0xbb] { add([0x0f, opcode], .modrm) }
        for field: UInt8 in 4...7 { add([0x0f, 0xba], .modrmImm8, group: field) }
        return list
    }()

    private static let legacyPrefixes: [UInt8] = [0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65]

    mutating func next() -> Encoding {
        let mode = [CodeMode.bits16, .bits32, .bits64][random.below(3)]
        var template: Template
        repeat { template = Self.templates[random.below(Self.templates.count)] } while template.only64 && mode != .bits64

        var bytes: [UInt8] = []
        var operandSizeOverride = false, addressSizeOverride = false, rexW = false
        // Mostly few prefixes; now and then many (past 15 bytes in all).
        let prefixCount = random.below(8) == 0 ? random.below(14) : random.below(4)
        for _ in 0..<prefixCount {
            // LOCK rarely: on most forms it is refused, which both sides must agree on.
            var prefix = Self.legacyPrefixes[random.below(Self.legacyPrefixes.count)]
            if prefix == 0xf0 && random.below(3) != 0 { prefix = 0x3e }
            if mode == .bits64 && random.below(10) == 0 { bytes.append(0x40 | UInt8(random.below(16))) }  // voided
            bytes.append(prefix)
            if prefix == 0x66 { operandSizeOverride = true }
            if prefix == 0x67 { addressSizeOverride = true }
        }
        if mode == .bits64 && random.below(2) == 0 {
            if random.below(8) == 0 { bytes.append(0x40 | UInt8(random.below(16))) }  // replaced by the next
            let rex = 0x40 | UInt8(random.below(16))
            bytes.append(rex)
            rexW = rex & 8 != 0
        }
        let prefixLength = bytes.count
        bytes += template.opcode

        let operandBytes: Int
        if template.opcode.count == 1 && template.opcode[0] & 1 == 0 && template.opcode[0] != 0x63 {
            operandBytes = 1
        } else if rexW {
            operandBytes = 8
        } else {
            operandBytes = (mode == .bits16) != operandSizeOverride ? 2 : 4
        }
        let addressBytes: Int
        switch mode {
        case .bits16: addressBytes = addressSizeOverride ? 4 : 2
        case .bits32: addressBytes = addressSizeOverride ? 2 : 4
        case .bits64: addressBytes = addressSizeOverride ? 4 : 8
        }

        switch template.shape {
        case .modrm, .modrmImm8, .modrmImmOperand:
            appendModRM(&bytes, group: template.group, addressBytes: addressBytes)
            if template.shape == .modrmImm8 { appendRandom(&bytes, 1) }
            if template.shape == .modrmImmOperand { appendRandom(&bytes, min(operandBytes, 4)) }
        case .moffs:
            appendRandom(&bytes, addressBytes)
        case .none:
            break
        }
        let length = bytes.count
        appendRandom(&bytes, 15)
        return Encoding(bytes: bytes, mode: mode, length: length, prefixLength: prefixLength)
    }

    /// ModRM with a random mod (register forms a quarter of the time), SIB and displacement as the mod and r/m
    /// and the address size call for.
    private mutating func appendModRM(_ bytes: inout [UInt8], group: UInt8?, addressBytes: Int) {
        let mod = UInt8(random.below(4))
        let reg = group ?? UInt8(random.below(8))
        let rm = UInt8(random.below(8))
        bytes.append(mod << 6 | reg << 3 | rm)
        guard mod != 3 else { return }
        if addressBytes == 2 {
            if mod == 1 { appendRandom(&bytes, 1) }
            if mod == 2 || (mod == 0 && rm == 6) { appendRandom(&bytes, 2) }
            return
        }
        var disp32 = mod == 2 || (mod == 0 && rm == 5)
        if rm == 4 {
            let sib = UInt8(random.below(256))
            bytes.append(sib)
            if mod == 0 && sib & 7 == 5 { disp32 = true }
        }
        if mod == 1 { appendRandom(&bytes, 1) }
        if disp32 { appendRandom(&bytes, 4) }
    }

    private mutating func appendRandom(_ bytes: inout [UInt8], _ count: Int) {
        for _ in 0..<count { bytes.append(UInt8(truncatingIfNeeded: random.next())) }
    }

    /// Random bytes (for the robustness check).
    mutating func randomBytes(_ count: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        appendRandom(&bytes, count)
        return bytes
    }

    mutating func below(_ bound: Int) -> Int { random.below(bound) }
}

/// SplitMix64: a tiny, well-known deterministic generator (Steele, Lea, Flood 2014).
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
