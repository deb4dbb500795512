import XCTest
import InstructionDecoder

/// The flags of add, adc, sub, sbb, cmp, and, or, xor, test, inc, dec and neg as emulated (on a memory operand,
/// the MMIO case): a table of hand-checked results, then 40,000 seeded random cases against a reference that
/// computes each flag from its definition in exact 128-bit arithmetic.
final class ArithmeticFlagsTests: XCTestCase {
    private static let cf: UInt64 = 1 << 0, pf: UInt64 = 1 << 2, af: UInt64 = 1 << 4, zf: UInt64 = 1 << 6
    private static let sf: UInt64 = 1 << 7, of: UInt64 = 1 << 11

    /// The group-1 operations in ModRM reg order, and how to encode `[rax], rbx` or `[rax]` forms of them.
    private enum Op: CaseIterable { case add, or, adc, sbb, and, sub, xor, cmp, test, inc, dec, neg }

    private func encoding(_ op: Op, _ width: DataWidth) -> String {
        let prefix: String
        switch width {
        case .byte, .dword: prefix = ""
        case .word: prefix = "66 "
        case .qword: prefix = "48 "
        }
        let byteBit = width == .byte ? 0 : 1
        func hex(_ value: Int) -> String { String(format: "%02x", value) }
        switch op {
        case .add, .or, .adc, .sbb, .and, .sub, .xor, .cmp:
            let row = [Op.add, .or, .adc, .sbb, .and, .sub, .xor, .cmp].firstIndex(of: op)!
            return prefix + hex(row * 8 + byteBit) + " 18"  // op [rax], bl/bx/ebx/rbx
        case .test: return prefix + hex(0x84 + byteBit) + " 18"
        case .inc: return prefix + hex(0xfe + byteBit) + " 00"
        case .dec: return prefix + hex(0xfe + byteBit) + " 08"
        case .neg: return prefix + hex(0xf6 + byteBit) + " 18"
        }
    }

    /// Emulates `op [0x1000], rbx` with the memory holding `left`; returns the stored value and the flags.
    private func compute(_ op: Op, _ width: DataWidth, _ left: UInt64, _ right: UInt64, carry: Bool,
                         otherFlags: UInt64 = 0) throws -> (value: UInt64, flags: UInt64) {
        let memory = TestMemory()
        memory.store(0x1000, width.bytes, left)
        var state = GuestCPUState(registers: GeneralRegisters([0x1000, 0, 0, right]), rip: 0x4000,
                                  rflags: 0x2 | otherFlags | (carry ? Self.cf : 0))
        try emulate(encoding(op, width), state: &state, memory: memory)
        return (memory.load(0x1000, width.bytes), state.rflags)
    }

    private func flags(_ names: String) -> UInt64 {
        var value: UInt64 = 0x2
        for name in names.split(separator: " ") {
            value |= ["CF": Self.cf, "PF": Self.pf, "AF": Self.af, "ZF": Self.zf, "SF": Self.sf, "OF": Self.of][String(name)]!
        }
        return value
    }

    func testHandCheckedCases() throws {
        // (operation, width, destination, source, CF before, result, flags after)
        let cases: [(Op, DataWidth, UInt64, UInt64, Bool, UInt64, String)] = [
            (.add, .byte, 0x7f, 0x01, false, 0x80, "AF SF OF"),
            (.add, .byte, 0xff, 0x01, false, 0x00, "CF PF AF ZF"),
            (.add, .byte, 0x80, 0x80, false, 0x00, "CF PF ZF OF"),
            (.add, .word, 0x0f0f, 0x0101, false, 0x1010, "AF"),
            (.add, .dword, 0xffff_ffff, 0xffff_ffff, false, 0xffff_fffe, "CF AF SF"),
            (.add, .qword, 0x7fff_ffff_ffff_ffff, 1, false, 0x8000_0000_0000_0000, "PF AF SF OF"),
            (.adc, .byte, 0xff, 0x00, true, 0x00, "CF PF AF ZF"),
            (.adc, .byte, 0x7f, 0x00, true, 0x80, "AF SF OF"),
            (.adc, .dword, 1, 0xffff_ffff, true, 1, "CF AF"),
            (.sub, .byte, 0x00, 0x01, false, 0xff, "CF PF AF SF"),
            (.sub, .byte, 0x80, 0x01, false, 0x7f, "AF OF"),
            (.sub, .word, 0x1234, 0x1234, false, 0x0000, "PF ZF"),
            (.sub, .qword, 0, 0x8000_0000_0000_0000, false, 0x8000_0000_0000_0000, "CF PF SF OF"),
            (.sbb, .byte, 0x05, 0x05, true, 0xff, "CF PF AF SF"),
            (.sbb, .dword, 0x8000_0000, 0, true, 0x7fff_ffff, "PF AF OF"),
            (.cmp, .byte, 0x10, 0x20, false, 0x10, "CF PF SF"),
            (.cmp, .dword, 0x8000_0000, 1, false, 0x8000_0000, "PF AF OF"),
            (.and, .byte, 0xf0, 0x0f, true, 0x00, "PF ZF"),
            (.and, .word, 0x8001, 0x8003, false, 0x8001, "SF"),
            (.or, .dword, 0x0300_0000, 0x0000_0003, true, 0x0300_0003, "PF"),
            (.xor, .qword, 0xffff_ffff_ffff_ffff, 0x7fff_ffff_ffff_ffff, false, 0x8000_0000_0000_0000, "PF SF"),
            (.test, .byte, 0x81, 0x80, true, 0x81, "SF"),
            (.test, .dword, 0x1, 0x2, false, 0x1, "PF ZF"),
            (.inc, .byte, 0xff, 0, true, 0x00, "CF PF AF ZF"),  // CF kept
            (.inc, .byte, 0x7f, 0, false, 0x80, "AF SF OF"),
            (.dec, .word, 0x0000, 0, false, 0xffff, "PF AF SF"),
            (.dec, .dword, 0x8000_0000, 0, true, 0x7fff_ffff, "CF PF AF OF"),
            (.neg, .byte, 0x00, 0, true, 0x00, "PF ZF"),
            (.neg, .byte, 0x80, 0, false, 0x80, "CF SF OF"),
            (.neg, .dword, 0x1, 0, false, 0xffff_ffff, "CF PF AF SF"),
        ]
        for (op, width, left, right, carry, result, expectedFlags) in cases {
            let (value, actualFlags) = try compute(op, width, left, right, carry: carry)
            let label = "\(op) \(width) \(String(left, radix: 16)), \(String(right, radix: 16)) CF=\(carry)"
            XCTAssertEqual(value, result, label)
            XCTAssertEqual(actualFlags, flags(expectedFlags), label)
        }
    }

    /// Flags outside the status set (here DF and IF) survive; so do the status flags for not.
    func testOtherFlagsAreKept() throws {
        let direction: UInt64 = 1 << 10, interrupt: UInt64 = 1 << 9
        XCTAssertEqual(try compute(.add, .byte, 1, 1, carry: false, otherFlags: direction | interrupt).flags,
                       0x2 | direction | interrupt)
        let memory = TestMemory()
        memory.store(0x1000, 4, 0x0f0f_0f0f)
        var state = GuestCPUState(registers: GeneralRegisters([0x1000]), rflags: 0x2 | Self.cf | Self.zf | Self.of)
        try emulate("f7 10", state: &state, memory: memory)  // not dword [rax]
        XCTAssertEqual(memory.load(0x1000, 4), 0xf0f0_f0f0)
        XCTAssertEqual(state.rflags, 0x2 | Self.cf | Self.zf | Self.of)
    }

    func testRandomCasesAgainstReference() throws {
        var random = SplitMix64(seed: 0xf1a6_5eed)
        let widths: [DataWidth] = [.byte, .word, .dword, .qword]
        for _ in 0..<40_000 {
            let op = Op.allCases[random.below(Op.allCases.count)]
            let width = widths[random.below(4)]
            // Edge values half the time: 0, 1, the sign bit and its neighbours, all ones.
            func operand() -> UInt64 {
                let edges: [UInt64] = [0, 1, width.signBit &- 1, width.signBit, width.signBit &+ 1, width.mask, width.mask &- 1]
                return width.truncate(random.below(2) == 0 ? edges[random.below(edges.count)] : random.next())
            }
            let left = operand(), right = operand()
            let carry = random.below(2) == 0
            let expected = reference(op, width, left, right, carry: carry)
            let actual = try compute(op, width, left, right, carry: carry)
            let label = "\(op) \(width) \(String(left, radix: 16)), \(String(right, radix: 16)) CF=\(carry)"
            XCTAssertEqual(actual.value, expected.value, label)
            XCTAssertEqual(actual.flags, expected.flags, label)
            if actual.value != expected.value || actual.flags != expected.flags { return }
        }
    }

    /// Each flag from its definition: CF the unsigned result outside the width, OF the signed result outside it,
    /// AF the same for the low nibble, PF an even number of ones in the low byte (counted bit by bit).
    private func reference(_ op: Op, _ width: DataWidth, _ left: UInt64, _ right: UInt64,
                           carry: Bool) -> (value: UInt64, flags: UInt64) {
        let bits = width.bits
        let unsignedA = Int128(left), unsignedB = Int128(right)
        func signed(_ value: UInt64) -> Int128 {
            let v = Int128(value)
            return v >= Int128(1) << (bits - 1) ? v - (Int128(1) << bits) : v
        }
        let signedA = signed(left), signedB = signed(right)
        let carryIn: Int128 = carry ? 1 : 0
        var flags: UInt64 = 0x2
        let unsignedResult: Int128, signedResult: Int128, nibbleResult: Int128
        var logic = false, keepCarry = false
        switch op {
        case .add, .adc, .inc:
            let b = op == .inc ? 1 : unsignedB, sb = op == .inc ? 1 : signedB
            let c = op == .adc ? carryIn : 0
            unsignedResult = unsignedA + b + c
            signedResult = signedA + sb + c
            nibbleResult = (unsignedA & 0xf) + (b & 0xf) + c
            keepCarry = op == .inc
        case .sub, .sbb, .cmp, .dec, .neg:
            let a = op == .neg ? 0 : unsignedA, sa = op == .neg ? 0 : signedA
            let b = op == .dec ? 1 : (op == .neg ? unsignedA : unsignedB)
            let sb = op == .dec ? 1 : (op == .neg ? signedA : signedB)
            let c = op == .sbb ? carryIn : 0
            unsignedResult = a - b - c
            signedResult = sa - sb - c
            nibbleResult = (a & 0xf) - (b & 0xf) - c
            keepCarry = op == .dec
        case .and, .test, .or, .xor:
            let value = op == .or ? left | right : (op == .xor ? left ^ right : left & right)
            unsignedResult = Int128(value)
            signedResult = signed(value)
            nibbleResult = 0
            logic = true
        }
        let value = UInt64(truncatingIfNeeded: unsignedResult) & width.mask
        if logic {
            // CF, OF cleared; AF too (architecturally undefined; cleared by processors).
        } else {
            let outsideUnsigned = unsignedResult < 0 || unsignedResult >= Int128(1) << bits
            if keepCarry ? carry : outsideUnsigned { flags |= Self.cf }
            if signedResult < -(Int128(1) << (bits - 1)) || signedResult >= Int128(1) << (bits - 1) { flags |= Self.of }
            if nibbleResult < 0 || nibbleResult > 0xf { flags |= Self.af }
        }
        var ones = 0
        for bit in 0..<8 where value >> UInt64(bit) & 1 == 1 { ones += 1 }
        if ones % 2 == 0 { flags |= Self.pf }
        if value == 0 { flags |= Self.zf }
        if value >> UInt64(bits - 1) & 1 == 1 { flags |= Self.sf }
        let stored = op == .cmp || op == .test ? left : value
        return (stored, flags)
    }
}
