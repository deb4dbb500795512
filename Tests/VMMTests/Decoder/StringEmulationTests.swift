import XCTest
import InstructionDecoder

/// MOVS, STOS and LODS: once and under REP, both directions, every address size, the repeat limit and faults.
final class StringEmulationTests: XCTestCase {
    private let memory = TestMemory()
    private let rcx: UInt8 = 1, rsi: UInt8 = 6, rdi: UInt8 = 7

    private func state(rax: UInt64 = 0, rcx: UInt64 = 0, rsi: UInt64 = 0, rdi: UInt64 = 0,
                       rflags: UInt64 = 0x2) -> GuestCPUState {
        GuestCPUState(registers: GeneralRegisters([rax, rcx, 0, 0, 0, 0, rsi, rdi]), rip: 0x4000, rflags: rflags)
    }

    func testRepStoreForwardAndBackward() throws {
        var cpu = state(rax: 0x1234_5678_9abc_def0, rcx: 3, rdi: 0x1000)
        try emulate("f3 aa", state: &cpu, memory: memory)  // rep stosb
        XCTAssertEqual(memory.log, ["w 1 @1000 = f0", "w 1 @1001 = f0", "w 1 @1002 = f0"])
        XCTAssertEqual(cpu.registers[rcx], 0)
        XCTAssertEqual(cpu.registers[rdi], 0x1003)
        XCTAssertEqual(cpu.rip, 0x4002)
        memory.log.removeAll()
        cpu = state(rax: 0x1234_5678_9abc_def0, rcx: 2, rdi: 0x2000, rflags: 0x2 | RFlags.direction)
        try emulate("f3 48 ab", state: &cpu, memory: memory)  // rep stosq, DF set
        XCTAssertEqual(memory.log, ["w 8 @2000 = 123456789abcdef0", "w 8 @1ff8 = 123456789abcdef0"])
        XCTAssertEqual(cpu.registers[rdi], 0x1ff0)
    }

    func testMoveAndLoad() throws {
        memory.store(0x3000, 4, 0xaabb_ccdd)
        var cpu = state(rsi: 0x3000, rdi: 0x5000)
        try emulate("a5", state: &cpu, memory: memory)  // movsd once: rcx untouched
        XCTAssertEqual(memory.log, ["r 4 @3000", "w 4 @5000 = aabbccdd"])
        XCTAssertEqual(cpu.registers[rsi], 0x3004)
        XCTAssertEqual(cpu.registers[rdi], 0x5004)
        cpu.registers[rsi] = 0x3000
        cpu.registers[0] = ~0
        try emulate("66 ad", state: &cpu, memory: memory)  // lodsw: merges into ax
        XCTAssertEqual(cpu.registers[0], 0xffff_ffff_ffff_ccdd)
        XCTAssertEqual(cpu.registers[rsi], 0x3002)
        cpu.segmentBases[.fs] = 0x10_0000
        memory.log.removeAll()
        try emulate("64 a4", state: &cpu, memory: memory)  // movsb from fs:[rsi]; the destination stays ES
        XCTAssertEqual(memory.log, ["r 1 @103002", "w 1 @5004 = 0"])
    }

    func testZeroCountDoesNothingButAdvance() throws {
        var cpu = state(rcx: 0, rsi: 0x3000, rdi: 0x5000)
        try emulate("f3 a4", state: &cpu, memory: memory)
        XCTAssertEqual(memory.log, [])
        XCTAssertEqual(cpu.rip, 0x4002)
        // The count is rcx at the address size: 67 uses ecx (0 here) and writes back 32-bit registers.
        cpu = state(rcx: 0x1_0000_0000, rdi: 0xffff_ffff_ffff_fff0)
        try emulate("67 f3 aa", state: &cpu, memory: memory)
        XCTAssertEqual(memory.log, [])
    }

    func testAddressSizesWrapTheRegisters() throws {
        // 16-bit code: rep movsw with si, di and cx; di wraps at 64 KiB, the upper bits stay.
        var cpu = state(rcx: 0xdead_0002, rsi: 0x0010, rdi: 0xbeef_fffe)
        cpu.segmentBases[.es] = 0x20000
        memory.store(0x10, 4, 0x2222_1111)
        try emulate("f3 a5", .bits16, state: &cpu, memory: memory)
        XCTAssertEqual(memory.log, ["r 2 @10", "w 2 @2fffe = 1111", "r 2 @12", "w 2 @20000 = 2222"])
        XCTAssertEqual(cpu.registers[rcx], 0xdead_0000)
        XCTAssertEqual(cpu.registers[rdi], 0xbeef_0002)
        XCTAssertEqual(cpu.registers[rsi], 0x0014)
        // 64-bit mode with 67: edi wraps at 4 GiB, and the 32-bit writes clear the upper halves.
        cpu = state(rax: 0x77, rcx: 0xffff_ffff_0000_0002, rdi: 0xffff_ffff_ffff_ffff)
        memory.log.removeAll()
        try emulate("67 f3 aa", state: &cpu, memory: memory)
        XCTAssertEqual(memory.log, ["w 1 @ffffffff = 77", "w 1 @0 = 77"])
        XCTAssertEqual(cpu.registers[rdi], 1)
        XCTAssertEqual(cpu.registers[rcx], 0)
    }

    func testRepeatLimitLeavesTheInstructionToRunAgain() throws {
        var cpu = state(rcx: 5, rdi: 0x1000)
        let emulator = InstructionEmulator(maximumRepeats: 2)
        XCTAssertEqual(try emulate("f3 aa", state: &cpu, memory: memory, emulator: emulator), .repeatPending)
        XCTAssertEqual(cpu.rip, 0x4000)
        XCTAssertEqual(cpu.registers[rcx], 3)
        XCTAssertEqual(cpu.registers[rdi], 0x1002)
        XCTAssertEqual(try emulate("f3 aa", state: &cpu, memory: memory, emulator: emulator), .repeatPending)
        XCTAssertEqual(try emulate("f3 aa", state: &cpu, memory: memory, emulator: emulator), .completed)
        XCTAssertEqual(cpu.rip, 0x4002)
        XCTAssertEqual(cpu.registers[rcx], 0)
        XCTAssertEqual(memory.log.count, 5)
        // F2 repeats these the same way (no ZF condition for move, store and load).
        cpu = state(rcx: 2, rdi: 0x1000)
        try emulate("f2 aa", state: &cpu, memory: memory)
        XCTAssertEqual(cpu.registers[rcx], 0)
    }

    func testFaultShowsTheCompletedIterations() throws {
        memory.refused = [0x1002]
        var cpu = state(rcx: 4, rsi: 0x1000, rdi: 0x8000)
        XCTAssertThrowsError(try emulate("f3 a4", state: &cpu, memory: memory)) { error in
            XCTAssertEqual(error as? EmulationError, .readFailed(address: 0x1002, size: 1))
        }
        XCTAssertEqual(cpu.registers[rcx], 2)
        XCTAssertEqual(cpu.registers[rsi], 0x1002)
        XCTAssertEqual(cpu.registers[rdi], 0x8002)
        XCTAssertEqual(cpu.rip, 0x4000)
    }
}
