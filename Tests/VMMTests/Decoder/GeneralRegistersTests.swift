import XCTest
import InstructionDecoder

/// x86's rules for narrow register writes.
final class GeneralRegistersTests: XCTestCase {
    private let full: UInt64 = 0x1122_3344_5566_7788

    private func written(_ register: Register, _ width: DataWidth, _ value: UInt64, _ mode: CodeMode) -> UInt64 {
        var registers = GeneralRegisters([full, full, full, full, full, full, full, full, full])
        registers.write(register, width: width, value: value, mode: mode)
        return registers[register.number]
    }

    func testWritesMergeOrZeroExtend() {
        XCTAssertEqual(written(.rax, .byte, 0xaa, .bits64), 0x1122_3344_5566_77aa)
        XCTAssertEqual(written(Register(0, highByte: true), .byte, 0xaa, .bits64), 0x1122_3344_5566_aa88)
        XCTAssertEqual(written(Register(8), .word, 0xaabb, .bits64), 0x1122_3344_5566_aabb)
        XCTAssertEqual(written(.rbx, .dword, 0xaabb_ccdd, .bits64), 0x0000_0000_aabb_ccdd)
        // Outside 64-bit mode the upper half is not the guest's to see; it is kept.
        XCTAssertEqual(written(.rbx, .dword, 0xaabb_ccdd, .bits32), 0x1122_3344_aabb_ccdd)
        XCTAssertEqual(written(.rsp, .qword, 0xaabb_ccdd_eeff_0011, .bits64), 0xaabb_ccdd_eeff_0011)
        // Only the width's bits of the value count.
        XCTAssertEqual(written(.rcx, .byte, 0x1ff, .bits64), 0x1122_3344_5566_77ff)
    }

    func testReads() {
        let registers = GeneralRegisters([full, 0, 0, 0xfedc_ba98_7654_3210])
        XCTAssertEqual(registers.read(Register(3, highByte: true), width: .byte), 0x32)
        XCTAssertEqual(registers.read(.rbx, width: .byte), 0x10)
        XCTAssertEqual(registers.read(.rbx, width: .word), 0x3210)
        XCTAssertEqual(registers.read(.rbx, width: .dword), 0x7654_3210)
        XCTAssertEqual(registers.read(.rax, width: .qword), full)
        // Register numbers wrap at 16 instead of trapping.
        XCTAssertEqual(registers[19], 0xfedc_ba98_7654_3210)
    }
}
