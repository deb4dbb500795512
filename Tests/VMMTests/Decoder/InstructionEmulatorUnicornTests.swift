import XCTest
import InstructionDecoder

/// The emulator against an executing CPU model: generated encodings (the decoder's differential generator) run
/// once in the emulator and once in Unicorn from the same random registers, flags and memory; registers, rip,
/// the status flags and every touched page must come out the same. Bit tests compare CF only (the SDM leaves
/// their other flags undefined).
final class InstructionEmulatorUnicornTests: XCTestCase {
    func testGeneratedInstructionsAgreeWithUnicorn() throws {
        let unicorn = UnicornReference()
        var generator = EncodingGenerator(seed: 0xe5e1_a7e)
        var random = SplitMix64(seed: 0x0e1a_7e5)
        var failures: [String] = []
        var compared = 0, faulted = 0, collided = 0, refused = 0
        while compared < 10_000 {
            let encoding = generator.next()
            guard let instruction = try? decodeInstruction(encoding.bytes, mode: encoding.mode) else { continue }
            let code = Array(encoding.bytes.prefix(instruction.length))
            let state = randomState(for: instruction, &random)
            let memory = PatternMemory(seed: random.next())
            var ours = state
            do {
                let outcome = try InstructionEmulator(maximumRepeats: 64).emulate(instruction, state: &ours,
                                                                                  read: memory.read, write: memory.write)
                XCTAssertEqual(outcome, .completed)
            } catch {
                faulted += 1  // non-canonical: Unicorn would fault
                continue
            }
            guard !memory.touchedPages.contains(UnicornReference.codeAddress(instruction.mode)) else {
                collided += 1
                continue
            }
            let referenceCode = Self.referenceForm(of: code, instruction, prefixLength: encoding.prefixLength)
            guard let theirs = unicorn.run(referenceCode, mode: instruction.mode, state: state,
                                           pages: memory.initialPages()) else {
                refused += 1
                continue
            }
            compared += 1
            if let problem = mismatch(instruction, ours: ours, memory: memory, theirs: theirs) {
                failures.append("\(instruction.mode) \(code.map { String(format: "%02x", $0) }.joined()): \(problem)")
            }
        }
        XCTAssertEqual(failures.count, 0, "first failures:\n" + failures.prefix(20).joined(separator: "\n"))
        XCTAssertLessThan(faulted + collided + refused, compared / 8,
                          "faulted \(faulted), on the code page \(collided), refused by Unicorn \(refused)")
    }

    /// The bytes Unicorn runs: the same instruction, but where Unicorn 2.1 (QEMU 5's translator) is known to differ
    /// from processors, an equivalent encoding of the same length. F6 /1 and F7 /1 (TEST's undocumented alias,
    /// #UD in QEMU) become /0; LOCK NEG (whose SF, ZF and PF QEMU computes from the old value) loses its LOCK to an
    /// F3, which NEG ignores.
    private static func referenceForm(of code: [UInt8], _ instruction: DecodedInstruction,
                                      prefixLength: Int) -> [UInt8] {
        var code = code
        if instruction.operation == .test && !instruction.opcode.isTwoByte && instruction.opcode.groupField == 1 {
            code[prefixLength + 1] &= ~0x38
        }
        if instruction.operation == .neg {
            for index in 0..<prefixLength where code[index] == 0xf0 { code[index] = 0xf3 }
        }
        return code
    }

    /// Registers from a mix of small, 32-bit and 64-bit values (so addresses land in few pages often), a small
    /// count for REP forms, random status flags and DF, FS/GS bases in 64-bit mode.
    private func randomState(for instruction: DecodedInstruction, _ random: inout SplitMix64) -> GuestCPUState {
        var registers = GeneralRegisters()
        let count = instruction.mode == .bits64 ? 16 : 8
        for number in 0..<count {
            let value: UInt64
            switch random.below(8) {
            case 0, 1: value = random.next() & 0xffff
            case 2, 3: value = random.next() & 0xffff_ffff
            case 4, 5, 6: value = random.next() & 0x7fff_ffff_ffff
            default: value = random.next()
            }
            registers[UInt8(number)] = instruction.mode == .bits64 ? value : value & 0xffff_ffff
        }
        if instruction.operation.isString && instruction.prefixes.repeatPrefix != nil {
            registers[1] = UInt64(random.below(6))
        }
        let flags = random.next() & (RFlags.status | RFlags.direction)
        var state = GuestCPUState(registers: registers, rip: UnicornReference.codeAddress(instruction.mode),
                                  rflags: 0x2 | flags)
        if instruction.mode == .bits64 {
            state.segmentBases.fs = random.next() & 0x7fff_ffff_f000
            state.segmentBases.gs = random.next() & 0x7fff_ffff_f000
        }
        return state
    }

    private func mismatch(_ instruction: DecodedInstruction, ours: GuestCPUState, memory: PatternMemory,
                          theirs: UnicornReference.Result) -> String? {
        var problems: [String] = []
        let registerMask: UInt64 = instruction.mode == .bits64 ? ~0 : 0xffff_ffff
        for (number, value) in theirs.registers.enumerated() where value & registerMask != ours.registers[UInt8(number)] & registerMask {
            problems.append("r\(number) \(String(ours.registers[UInt8(number)], radix: 16)), Unicorn \(String(value, radix: 16))")
        }
        if theirs.rip != ours.rip { problems.append("rip \(String(ours.rip, radix: 16)), Unicorn \(String(theirs.rip, radix: 16))") }
        let isBitTest = [Operation.bt, .bts, .btr, .btc].contains(instruction.operation)
        let flagMask = isBitTest ? RFlags.carry : RFlags.status | RFlags.direction
        if theirs.rflags & flagMask != ours.rflags & flagMask {
            problems.append("rflags \(String(ours.rflags & flagMask, radix: 16)), Unicorn \(String(theirs.rflags & flagMask, radix: 16))")
        }
        for (page, bytes) in theirs.pages where bytes != memory.page(page) {
            problems.append("page \(String(page, radix: 16)) differs")
        }
        return problems.isEmpty ? nil : problems.joined(separator: "; ")
    }
}

/// Memory whose initial bytes are a seeded pattern, with the emulator's writes on top; it records which pages the
/// emulator touched, so the same pages can be given to Unicorn.
private final class PatternMemory {
    private let seed: UInt64
    private var written: [UInt64: UInt8] = [:]
    private var initialPageCache: [UInt64: [UInt8]] = [:]
    private(set) var touchedPages: Set<UInt64> = []

    init(seed: UInt64) { self.seed = seed }

    private func initialPage(_ page: UInt64) -> [UInt8] {
        if let bytes = initialPageCache[page] { return bytes }
        var mix = SplitMix64(seed: seed ^ page)
        var bytes = [UInt8](repeating: 0, count: 0x1000)
        bytes.withUnsafeMutableBytes { raw in
            for word in 0..<512 { raw.storeBytes(of: mix.next(), toByteOffset: word * 8, as: UInt64.self) }
        }
        initialPageCache[page] = bytes
        return bytes
    }

    private func byte(_ address: UInt64) -> UInt8 {
        written[address] ?? initialPage(address & ~0xfff)[Int(address & 0xfff)]
    }

    private func touch(_ address: UInt64, _ size: Int) {
        for offset in 0..<size { touchedPages.insert((address &+ UInt64(offset)) & ~0xfff) }
    }

    func read(_ address: UInt64, _ size: Int) -> UInt64? {
        touch(address, size)
        var value: UInt64 = 0
        for offset in 0..<size { value |= UInt64(byte(address &+ UInt64(offset))) << UInt64(offset * 8) }
        return value
    }

    func write(_ address: UInt64, _ size: Int, _ value: UInt64) -> Bool {
        touch(address, size)
        for offset in 0..<size { written[address &+ UInt64(offset)] = UInt8(truncatingIfNeeded: value >> UInt64(offset * 8)) }
        return true
    }

    func page(_ page: UInt64) -> [UInt8] {
        var bytes = initialPage(page)
        for (address, value) in written where address & ~0xfff == page { bytes[Int(address & 0xfff)] = value }
        return bytes
    }

    func initialPages() -> [UInt64: [UInt8]] {
        var pages: [UInt64: [UInt8]] = [:]
        for page in touchedPages { pages[page] = initialPage(page) }
        return pages
    }
}
