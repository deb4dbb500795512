import XCTest
import InstructionDecoder

/// Effective and linear addresses: every address size wraps, segment bases count where the mode says.
final class MemoryOperandTests: XCTestCase {
    private func offset(_ hex: String, _ mode: CodeMode, _ registers: [UInt64], rip: UInt64 = 0) throws -> UInt64 {
        let instruction = try decodeInstruction(bytes(hex), mode: mode)
        let memory = try XCTUnwrap(instruction.memory)
        return memory.effectiveAddress(registers: GeneralRegisters(registers),
                                       nextInstruction: rip &+ UInt64(instruction.length))
    }

    func testAddressSizesWrap() throws {
        // mov eax, [rax + rbx*4 - 8]: 64-bit sums wrap at 2^64.
        XCTAssertEqual(try offset("8b 44 98 f8", .bits64, [4, 0, 0, 0x4000_0000_0000_0000]), 0xffff_ffff_ffff_fffc)
        // With 67: [eax + ebx*4 - 8], the upper halves of rax and rbx ignored, the sum wrapped at 4 GiB.
        XCTAssertEqual(try offset("67 8b 44 98 f8", .bits64, [0xffff_ffff_0000_0004, 0, 0, 0x1_4000_0000]), 0xffff_fffc)
        // 16-bit: [bx + si + 0x10] wraps at 64 KiB.
        XCTAssertEqual(try offset("8b 40 10", .bits16, [0, 0, 0, 0xfff8, 0, 0, 0x0004]), 0x000c)
        XCTAssertEqual(try offset("8b 86 00 80", .bits16, [0, 0, 0, 0, 0, 0x9000]), 0x1000)  // [bp - 0x8000]
        // rip-relative: from the next instruction; with 67 from its eip, wrapped.
        XCTAssertEqual(try offset("8b 05 f0 ff ff ff", .bits64, [], rip: 0x1000), 0x0ff6)
        XCTAssertEqual(try offset("67 8b 05 10 00 00 00", .bits64, [], rip: 0x1_ffff_fff0), 0x0000_0007)
    }

    func testLinearAddressesBySegment() {
        var bases = SegmentBases()
        bases[.ds] = 0x10_0000
        bases[.fs] = 0x7fff_0000_0000
        bases[.es] = 0xffff_f000
        let data = MemoryOperand(segment: .ds, addressWidth: .qword)
        let thread = MemoryOperand(segment: .fs, addressWidth: .qword)
        // 64-bit mode: only FS and GS have bases.
        XCTAssertEqual(data.linearAddress(offset: 0x20, mode: .bits64, segmentBases: bases), 0x20)
        XCTAssertEqual(thread.linearAddress(offset: 0x20, mode: .bits64, segmentBases: bases), 0x7fff_0000_0020)
        // Otherwise every base counts and the sum wraps at 4 GiB.
        XCTAssertEqual(data.linearAddress(offset: 0x20, mode: .bits32, segmentBases: bases), 0x10_0020)
        let extra = MemoryOperand(segment: .es, addressWidth: .dword)
        XCTAssertEqual(extra.linearAddress(offset: 0x2000, mode: .bits32, segmentBases: bases), 0x1000)
    }
}
