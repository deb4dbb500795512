import XCTest
import InstructionDecoder

/// Emulation of the non-string instructions: what reaches memory, what reaches registers, rip, and failures that
/// leave the state as it was.
final class InstructionEmulatorTests: XCTestCase {
    private let memory = TestMemory()

    private func state(_ registers: [UInt64], rip: UInt64 = 0x4000, rflags: UInt64 = 0x2) -> GuestCPUState {
        GuestCPUState(registers: GeneralRegisters(registers), rip: rip, rflags: rflags)
    }

    func testStoresAndLoads() throws {
        var cpu = state([0x1000, 0, 0, 0x1122_3344_5566_7788])
        try emulate("89 18", state: &cpu, memory: memory)  // mov [rax], ebx
        XCTAssertEqual(memory.log, ["w 4 @1000 = 55667788"])
        XCTAssertEqual(cpu.rip, 0x4002)
        try emulate("88 78 08", state: &cpu, memory: memory)  // mov [rax + 8], bh
        XCTAssertEqual(memory.load(0x1008, 1), 0x77)
        try emulate("c7 40 10 ff ff ff ff", state: &cpu, memory: memory)  // mov dword [rax + 0x10], -1
        XCTAssertEqual(memory.load(0x1010, 8), 0xffff_ffff)
        try emulate("48 c7 40 18 fe ff ff ff", state: &cpu, memory: memory)  // mov qword [rax + 0x18], -2
        XCTAssertEqual(memory.load(0x1018, 8), 0xffff_ffff_ffff_fffe)

        memory.store(0x2000, 8, 0xa1b2_c3d4_e5f6_0718)
        cpu = state([0x2000, 0, 0, full])
        try emulate("8a 18", state: &cpu, memory: memory)  // mov bl, [rax]: merges
        XCTAssertEqual(cpu.registers[3], 0xffff_ffff_ffff_ff18)
        try emulate("8a 38", state: &cpu, memory: memory)  // mov bh, [rax]
        XCTAssertEqual(cpu.registers[3], 0xffff_ffff_ffff_1818)
        try emulate("66 8b 18", state: &cpu, memory: memory)  // mov bx, [rax]
        XCTAssertEqual(cpu.registers[3], 0xffff_ffff_ffff_0718)
        try emulate("8b 18", state: &cpu, memory: memory)  // mov ebx, [rax]: zero-extends in 64-bit mode
        XCTAssertEqual(cpu.registers[3], 0xe5f6_0718)
        cpu.registers[3] = full
        try emulate("8b 18", .bits32, state: &cpu, memory: memory)
        XCTAssertEqual(cpu.registers[3], 0xffff_ffff_e5f6_0718)
        try emulate("48 8b 18", state: &cpu, memory: memory)
        XCTAssertEqual(cpu.registers[3], 0xa1b2_c3d4_e5f6_0718)
    }

    private let full: UInt64 = ~0

    func testMoffsAndRIPRelative() throws {
        memory.store(0x7766_5544_3322, 8, 0xcafe)
        var cpu = state([full])
        try emulate("66 a1 22 33 44 55 66 77 00 00", state: &cpu, memory: memory)  // mov ax, [moffs64]
        XCTAssertEqual(cpu.registers[0], 0xffff_ffff_ffff_cafe)
        XCTAssertEqual(cpu.rip, 0x400a)
        cpu = state([0, 0, 0, 0x55], rip: 0x5000)
        try emulate("88 1d 10 00 00 00", state: &cpu, memory: memory)  // mov [rip + 0x10], bl
        XCTAssertEqual(memory.log.last, "w 1 @5016 = 55")
    }

    func testExtendingMoves() throws {
        memory.store(0x1000, 4, 0x8000_ff80)
        var cpu = state([0x1000, full])
        try emulate("0f b6 08", state: &cpu, memory: memory)  // movzx ecx, byte [rax]
        XCTAssertEqual(cpu.registers[1], 0x80)
        try emulate("48 0f be 08", state: &cpu, memory: memory)  // movsx rcx, byte [rax]
        XCTAssertEqual(cpu.registers[1], 0xffff_ffff_ffff_ff80)
        try emulate("66 0f be 08", state: &cpu, memory: memory)  // movsx cx, byte [rax]
        XCTAssertEqual(cpu.registers[1], 0xffff_ffff_ffff_ff80)
        cpu.registers[1] = 0
        try emulate("66 0f b6 08", state: &cpu, memory: memory)  // movzx cx, byte [rax]: merges
        XCTAssertEqual(cpu.registers[1], 0x0080)
        try emulate("0f bf 08", state: &cpu, memory: memory)  // movsx ecx, word [rax]
        XCTAssertEqual(cpu.registers[1], 0xffff_ff80)
        try emulate("0f b7 08", state: &cpu, memory: memory)  // movzx ecx, word [rax]
        XCTAssertEqual(cpu.registers[1], 0xff80)
        try emulate("48 63 08", state: &cpu, memory: memory)  // movsxd rcx, dword [rax]
        XCTAssertEqual(cpu.registers[1], 0xffff_ffff_8000_ff80)
        cpu.registers[1] = full
        try emulate("63 08", state: &cpu, memory: memory)  // movsxd ecx, dword [rax]: a 32-bit move
        XCTAssertEqual(cpu.registers[1], 0x8000_ff80)
        // The byte source of movzx can be a high-byte register.
        cpu.registers[2] = 0xab00
        try emulate("0f b6 ce", state: &cpu, memory: memory)  // movzx ecx, dh
        XCTAssertEqual(cpu.registers[1], 0xab)
    }

    func testExchangeReadsThenWritesMemoryThenTheRegister() throws {
        memory.store(0x1000, 4, 0x1111_1111)
        var cpu = state([0x1000, 0, 0, 0xffff_ffff_2222_2222])
        try emulate("f0 87 18", state: &cpu, memory: memory)  // lock xchg [rax], ebx
        XCTAssertEqual(memory.log, ["r 4 @1000", "w 4 @1000 = 22222222"])
        XCTAssertEqual(memory.load(0x1000, 4), 0x2222_2222)
        XCTAssertEqual(cpu.registers[3], 0x1111_1111)
        // Between registers, and with a high byte: xchg ah, bl
        cpu = state([0x1234, 0, 0, 0x56])
        try emulate("86 dc", state: &cpu, memory: memory)
        XCTAssertEqual(cpu.registers[0], 0x5634)
        XCTAssertEqual(cpu.registers[3], 0x12)
    }

    func testReadModifyWriteAndCompare() throws {
        memory.store(0x1000, 4, 0xff00_00ff)
        var cpu = state([0x1000])
        try emulate("81 20 0f 0f 00 00", state: &cpu, memory: memory)  // and dword [rax], 0xf0f
        XCTAssertEqual(memory.log, ["r 4 @1000", "w 4 @1000 = f"])
        try emulate("83 08 f0", state: &cpu, memory: memory)  // or dword [rax], -16
        XCTAssertEqual(memory.load(0x1000, 4), 0xffff_ffff)
        memory.log.removeAll()
        try emulate("83 38 ff", state: &cpu, memory: memory)  // cmp dword [rax], -1: no write
        XCTAssertEqual(memory.log, ["r 4 @1000"])
        XCTAssertNotEqual(cpu.rflags & RFlags.zero, 0)
        try emulate("f6 00 01", state: &cpu, memory: memory)  // test byte [rax], 1
        XCTAssertEqual(memory.log, ["r 4 @1000", "r 1 @1000"])
        // Register destination: add ecx, [rax]
        cpu.registers[1] = 0xffff_ffff_0000_0001
        try emulate("03 08", state: &cpu, memory: memory)
        XCTAssertEqual(cpu.registers[1], 0)
        XCTAssertNotEqual(cpu.rflags & RFlags.carry, 0)
        // adc and sbb use CF
        memory.store(0x1000, 1, 0x10)
        cpu.rflags |= RFlags.carry
        try emulate("80 10 01", state: &cpu, memory: memory)  // adc byte [rax], 1
        XCTAssertEqual(memory.load(0x1000, 1), 0x12)
        cpu.rflags |= RFlags.carry
        try emulate("80 18 01", state: &cpu, memory: memory)  // sbb byte [rax], 1
        XCTAssertEqual(memory.load(0x1000, 1), 0x10)
    }

    func testBitTests() throws {
        memory.store(0x1000, 8, 0x8000_0001)
        var cpu = state([0x1000, 31])
        try emulate("0f a3 08", state: &cpu, memory: memory)  // bt dword [rax], ecx
        XCTAssertNotEqual(cpu.rflags & RFlags.carry, 0)
        try emulate("0f ba 28 21", state: &cpu, memory: memory)  // bts dword [rax], 33: offset mod 32 = bit 1
        XCTAssertEqual(memory.load(0x1000, 4), 0x8000_0003)
        XCTAssertEqual(cpu.rflags & RFlags.carry, 0)
        // A register offset indexes a bit string: ecx = 32 is bit 0 of the next dword, -1 bit 31 of the one before.
        cpu.registers[1] = 32
        try emulate("0f ab 08", state: &cpu, memory: memory)  // bts dword [rax], ecx
        XCTAssertEqual(memory.log.suffix(2), ["r 4 @1004", "w 4 @1004 = 1"])
        cpu.registers[1] = 0xffff_ffff
        try emulate("0f bb 08", state: &cpu, memory: memory)  // btc dword [rax], ecx
        XCTAssertEqual(memory.log.suffix(2), ["r 4 @ffc", "w 4 @ffc = 80000000"])
        cpu.registers[1] = ~0
        try emulate("48 0f b3 08", state: &cpu, memory: memory)  // btr qword [rax], rcx: bit 63 of the qword before
        XCTAssertEqual(memory.log.suffix(2), ["r 8 @ff8", "w 8 @ff8 = 0"])
        XCTAssertNotEqual(cpu.rflags & RFlags.carry, 0)
        // On a register the offset only wraps: bt eax, 36 tests bit 4.
        cpu = state([0x10])
        try emulate("0f ba e0 24", state: &cpu, memory: memory)
        XCTAssertNotEqual(cpu.rflags & RFlags.carry, 0)
    }

    func testOneOperandForms() throws {
        memory.store(0x1000, 2, 0x00ff)
        var cpu = state([0x1000], rflags: 0x2 | RFlags.carry)
        try emulate("66 ff 00", state: &cpu, memory: memory)  // inc word [rax]: CF kept
        XCTAssertEqual(memory.load(0x1000, 2), 0x0100)
        XCTAssertNotEqual(cpu.rflags & RFlags.carry, 0)
        try emulate("66 f7 18", state: &cpu, memory: memory)  // neg word [rax]
        XCTAssertEqual(memory.load(0x1000, 2), 0xff00)
        try emulate("66 f7 10", state: &cpu, memory: memory)  // not word [rax]
        XCTAssertEqual(memory.load(0x1000, 2), 0x00ff)
        try emulate("fe 08", state: &cpu, memory: memory)  // dec byte [rax]
        XCTAssertEqual(memory.load(0x1000, 2), 0x00fe)
    }

    func testSegmentsAndAddressWrapReachTheCallbacks() throws {
        var cpu = state([0xffff_fff0, 0, 0, 0x20])
        try emulate("67 88 18", state: &cpu, memory: memory)  // mov [eax], bl
        try emulate("67 88 1c 18", state: &cpu, memory: memory)  // mov [eax + ebx], bl: wraps at 4 GiB
        cpu.segmentBases[.gs] = 0x1_0000_0000
        try emulate("65 88 18", state: &cpu, memory: memory)  // mov gs:[rax], bl
        try emulate("3e 88 18", state: &cpu, memory: memory)  // ds: has no base in 64-bit mode
        cpu = state([0, 0, 0, 0xfff0, 0, 0, 0x20])
        cpu.segmentBases[.ds] = 0x10000
        try emulate("88 18", .bits16, state: &cpu, memory: memory)  // mov [bx + si], bl: 0x10 + DS base
        XCTAssertEqual(cpu.rip, 0x4002)
        XCTAssertEqual(memory.log, ["w 1 @fffffff0 = 20", "w 1 @10 = 20", "w 1 @1fffffff0 = 20", "w 1 @fffffff0 = 20",
                                    "w 1 @10010 = f0"])
        // 16-bit code: ip wraps at 64 KiB.
        cpu.rip = 0xffff
        try emulate("88 18", .bits16, state: &cpu, memory: memory)
        XCTAssertEqual(cpu.rip, 0x0001)
    }

    func testFailedAccessesLeaveTheStateAlone() throws {
        memory.refused = [0x1000]
        var cpu = state([0x1000, 7])
        let before = cpu
        XCTAssertThrowsError(try emulate("8b 08", state: &cpu, memory: memory)) { error in
            XCTAssertEqual(error as? EmulationError, .readFailed(address: 0x1000, size: 4))
        }
        XCTAssertThrowsError(try emulate("87 08", state: &cpu, memory: memory)) { error in  // xchg: read refused
            XCTAssertEqual(error as? EmulationError, .readFailed(address: 0x1000, size: 4))
        }
        XCTAssertThrowsError(try emulate("01 08", state: &cpu, memory: memory))
        XCTAssertEqual(cpu, before)
        // A write that fails after its read: no register or flag changed either.
        let device = WriteRefusingMemory()
        let exchange = try decodeInstruction(bytes("87 08"), mode: .bits64)
        XCTAssertThrowsError(try InstructionEmulator().emulate(exchange, state: &cpu, read: device.read,
                                                               write: device.write)) { error in
            XCTAssertEqual(error as? EmulationError, .writeFailed(address: 0x1000, size: 4))
        }
        let add = try decodeInstruction(bytes("83 00 01"), mode: .bits64)
        XCTAssertThrowsError(try InstructionEmulator().emulate(add, state: &cpu, read: device.read, write: device.write))
        XCTAssertEqual(cpu, before)
        // Non-canonical: refused before any access (also when only the last byte is out).
        cpu.registers[0] = 0x0000_8000_0000_0000
        XCTAssertThrowsError(try emulate("8b 08", state: &cpu, memory: memory)) { error in
            XCTAssertEqual(error as? EmulationError, .nonCanonicalAddress(0x0000_8000_0000_0000, segment: .ds))
        }
        cpu.registers[0] = 0x0000_7fff_ffff_fffe
        XCTAssertThrowsError(try emulate("8b 08", state: &cpu, memory: memory))
        XCTAssertEqual(memory.log, ["r 4 @1000", "r 4 @1000", "r 4 @1000"])
        XCTAssertEqual(cpu.rip, before.rip)
    }

    private final class WriteRefusingMemory {
        func read(_ address: UInt64, _ size: Int) -> UInt64? { 5 }
        func write(_ address: UInt64, _ size: Int, _ value: UInt64) -> Bool { false }
    }
}
