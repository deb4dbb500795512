import XCTest
import InstructionDecoder

/// Hand-checked decodings: what Capstone cannot tell (default segments, the decoder's own fields) and the errors.
final class InstructionDecoderTests: XCTestCase {
    private func decode(_ hex: String, _ mode: CodeMode = .bits64) throws -> DecodedInstruction {
        try decodeInstruction(bytes(hex), mode: mode)
    }

    private func error(_ hex: String, _ mode: CodeMode = .bits64) -> DecodeError? {
        do {
            _ = try decodeInstruction(bytes(hex), mode: mode)
            return nil
        } catch {
            return error
        }
    }

    func testCodeModeFromCodeSegment() {
        XCTAssertEqual(CodeMode(csLong: true, csDefaultBig: false), .bits64)
        XCTAssertEqual(CodeMode(csLong: false, csDefaultBig: true), .bits32)
        XCTAssertEqual(CodeMode(csLong: false, csDefaultBig: false), .bits16)
    }

    func testLoadWithDisplacementAndDefaultSegments() throws {
        // mov eax, [rbp + 8]: SS is the default through rbp, and rsp.
        let load = try decode("8b 45 08")
        XCTAssertEqual(load.length, 3)
        XCTAssertEqual(load.operation, .mov)
        XCTAssertEqual(load.operandWidth, .dword)
        XCTAssertEqual(load.addressWidth, .qword)
        XCTAssertEqual(load.destination, .register(.rax))
        XCTAssertEqual(load.memory, MemoryOperand(segment: .ss, base: 5, displacement: 8, addressWidth: .qword))
        XCTAssertEqual(try decode("8b 04 24").memory?.segment, .ss)
        // r13 and r12 as bases need the rbp and rsp encodings but default to DS.
        XCTAssertEqual(try decode("41 8b 45 08").memory, MemoryOperand(segment: .ds, base: 13, displacement: 8,
                                                                        addressWidth: .qword))
        XCTAssertEqual(try decode("41 8b 04 24").memory?.segment, .ds)
        // 16-bit: [bp + si] is SS, [disp16] (the bp slot with mod 0) is DS.
        XCTAssertEqual(try decode("8b 02", .bits16).memory, MemoryOperand(segment: .ss, base: 5, index: 6,
                                                                           addressWidth: .word))
        XCTAssertEqual(try decode("8b 06 34 12", .bits16).memory, MemoryOperand(segment: .ds, displacement: 0x1234,
                                                                                 addressWidth: .word))
        // An override wins, also over SS; in 64-bit mode it is kept (only FS and GS bases count later).
        XCTAssertEqual(try decode("64 8b 45 08").memory?.segment, .fs)
        XCTAssertEqual(try decode("2e 8b 45 08").prefixes.segmentOverride, .cs)
    }

    func testSIBAndRIPRelativeForms() throws {
        // mov rax, [rbx + r9*8 - 0x10]
        let indexed = try decode("4a 8b 44 cb f0")
        XCTAssertEqual(indexed.operandWidth, .qword)
        XCTAssertEqual(indexed.memory, MemoryOperand(segment: .ds, base: 3, index: 9, scale: 8,
                                                     displacement: 0xffff_ffff_ffff_fff0, addressWidth: .qword))
        // No index (SIB index 4 without REX.X): scale 1, whatever the SIB says.
        XCTAssertEqual(try decode("8b 04 e0").memory, MemoryOperand(segment: .ds, base: 0, addressWidth: .qword))
        // SIB base 5 with mod 0: disp32 alone (also with REX.B: r13 would need mod 1).
        XCTAssertEqual(try decode("41 8b 04 25 00 10 00 00").memory,
                       MemoryOperand(segment: .ds, displacement: 0x1000, addressWidth: .qword))
        let relative = try decode("8b 05 00 01 00 00")
        XCTAssertEqual(relative.memory, MemoryOperand(segment: .ds, displacement: 0x100, isRIPRelative: true,
                                                      addressWidth: .qword))
        // In 32-bit code the same bytes are an absolute disp32.
        XCTAssertEqual(try decode("8b 05 00 01 00 00", .bits32).memory,
                       MemoryOperand(segment: .ds, displacement: 0x100, addressWidth: .dword))
        XCTAssertEqual(try decode("67 8b 05 00 01 00 00").memory?.addressWidth, .dword)
    }

    func testByteRegistersWithAndWithoutREX() throws {
        // mov al, ah / mov al, spl
        let high = try decode("88 e0")
        XCTAssertEqual(high.destination, .register(Register(0)))
        XCTAssertEqual(high.source, .register(Register(0, highByte: true)))
        XCTAssertEqual(try decode("40 88 e0").source, .register(Register(4)))
        // mov [rax], bh; with REX.R: r15b
        XCTAssertEqual(try decode("88 38").source, .register(Register(3, highByte: true)))
        XCTAssertEqual(try decode("44 88 38").source, .register(Register(15)))
        // movzx ecx, dh
        let movzx = try decode("0f b6 ce")
        XCTAssertEqual(movzx.sourceWidth, .byte)
        XCTAssertEqual(movzx.source, .register(Register(2, highByte: true)))
        // A REX prefix followed by a legacy prefix is void: 66 then applies, bh stays bh.
        let voided = try decode("48 66 8b 00")
        XCTAssertNil(voided.prefixes.rex)
        XCTAssertEqual(voided.operandWidth, .word)
        XCTAssertEqual(try decode("40 2e 88 38").source, .register(Register(3, highByte: true)))
    }

    func testWidthsFromPrefixes() throws {
        XCTAssertEqual(try decode("66 89 00").operandWidth, .word)
        XCTAssertEqual(try decode("66 48 89 00").operandWidth, .qword)  // REX.W beats 66
        XCTAssertEqual(try decode("89 00", .bits16).operandWidth, .word)
        XCTAssertEqual(try decode("66 89 00", .bits16).operandWidth, .dword)
        XCTAssertEqual(try decode("67 89 00", .bits16).addressWidth, .dword)
        XCTAssertEqual(try decode("67 89 00", .bits32).addressWidth, .word)
        // movsxd: REX.W sign-extends a dword; without it the SDM's r32 form moves 32 bits.
        XCTAssertEqual(try decode("48 63 00").sourceWidth, .dword)
        XCTAssertEqual(try decode("63 00").sourceWidth, .dword)
        XCTAssertEqual(try decode("66 63 00").sourceWidth, .word)
    }

    func testImmediatesAndOffsets() throws {
        // mov qword [rax], -1 (imm32 sign-extended); add word [rax], -1 (imm8 sign-extended); bt dword [rax], 33
        XCTAssertEqual(try decode("48 c7 00 ff ff ff ff").immediate, ~0)
        XCTAssertEqual(try decode("66 83 00 ff").immediate, 0xffff)
        let bitTest = try decode("0f ba 20 21")
        XCTAssertEqual(bitTest.operation, .bt)
        XCTAssertEqual(bitTest.immediate, 0x21)
        XCTAssertEqual(bitTest.sourceWidth, .byte)
        // moffs: as wide as the address (8 bytes in 64-bit mode, 2 in 16-bit code).
        let absolute = try decode("48 a3 88 77 66 55 44 33 22 11")
        XCTAssertEqual(absolute.length, 10)
        XCTAssertEqual(absolute.memory?.displacement, 0x1122_3344_5566_7788)
        XCTAssertEqual(absolute.source, .register(.rax))
        XCTAssertEqual(try decode("a1 34 12", .bits16).length, 3)
    }

    func testStringOperandsAndPrefixes() throws {
        let copy = try decode("f3 2e 66 a5")
        XCTAssertEqual(copy.operation, .movs)
        XCTAssertEqual(copy.operandWidth, .word)
        XCTAssertEqual(copy.prefixes.repeatPrefix, .rep)
        // The destination is always ES:[rdi]; the source's DS takes the override.
        XCTAssertEqual(copy.destination, .memory(MemoryOperand(segment: .es, base: 7, addressWidth: .qword)))
        XCTAssertEqual(copy.source, .memory(MemoryOperand(segment: .cs, base: 6, addressWidth: .qword)))
        XCTAssertEqual(try decode("64 aa").destination.memory?.segment, .es)
        // Of F2 and F3 the last counts.
        XCTAssertEqual(try decode("f3 f2 ab").prefixes.repeatPrefix, .repne)
        XCTAssertEqual(try decode("f0 f0 87 00").prefixes.lock, true)
    }

    func testTruncatedAndOverlongInput() {
        XCTAssertEqual(error(""), .truncated(available: 0))
        XCTAssertEqual(error("66 67"), .truncated(available: 2))
        XCTAssertEqual(error("8b"), .truncated(available: 1))
        XCTAssertEqual(error("8b 84 24 00 00 00"), .truncated(available: 6))  // disp32 cut short
        XCTAssertEqual(error("48 a1 00 00 00 00"), .truncated(available: 6))  // moffs64 cut short
        // 14 prefixes and a two-byte mov are 16 bytes.
        XCTAssertEqual(error(String(repeating: "2e", count: 14) + "89 00"), .longerThan15Bytes)
        XCTAssertEqual(try decode(String(repeating: "2e", count: 13) + "89 00").length, 15)
        // More input than the instruction: only the instruction counts.
        XCTAssertEqual(try decode("89 00 " + String(repeating: "90", count: 30)).length, 2)
        // A slice of a larger buffer decodes in place.
        let buffer = bytes("90 90 8b 45 08")
        XCTAssertEqual(try decodeInstruction(buffer[2...], mode: .bits64).length, 3)
    }

    func testUnsupportedInstructionsAreNamed() {
        XCTAssertEqual(error("0f a2"), .unsupported(Opcode(twoByte: true, 0xa2), mode: .bits64))
        XCTAssertEqual(error("0f a2")?.description, "unsupported instruction: opcode 0f a2 in 64-bit mode")
        XCTAssertEqual(error("f6 20")?.description, "unsupported instruction: opcode f6 /4 in 64-bit mode")
        XCTAssertEqual(error("63 00", .bits32)?.description, "unsupported instruction: opcode 63 in 32-bit mode")
        // Register-only opcodes (they cannot touch MMIO) and group members without a memory form.
        XCTAssertEqual(error("05 01 00 00 00"), .unsupported(Opcode(0x05), mode: .bits64))
        XCTAssertEqual(error("40", .bits32), .unsupported(Opcode(0x40), mode: .bits32))
        XCTAssertEqual(error("c6 08 01"), .unsupported(Opcode(0xc6, group: 1), mode: .bits64))
        XCTAssertEqual(error("ff 30"), .unsupported(Opcode(0xff, group: 6), mode: .bits64))
        XCTAssertEqual(error("0f ba 00 01"), .unsupported(Opcode(twoByte: true, 0xba, group: 0), mode: .bits64))
    }

    func testLockNeedsALockableInstructionWithAMemoryDestination() throws {
        XCTAssertTrue(try decode("f0 01 00").prefixes.lock)
        XCTAssertTrue(try decode("f0 0f ab 00").prefixes.lock)
        XCTAssertEqual(error("f0 89 00"), .lockNotAllowed(Opcode(0x89)))  // mov
        XCTAssertEqual(error("f0 01 c0"), .lockNotAllowed(Opcode(0x01)))  // register destination
        XCTAssertEqual(error("f0 03 00"), .lockNotAllowed(Opcode(0x03)))  // memory only as the source
        XCTAssertEqual(error("f0 39 00"), .lockNotAllowed(Opcode(0x39)))  // cmp
        XCTAssertEqual(error("f0 0f a3 00"), .lockNotAllowed(Opcode(twoByte: true, 0xa3)))  // bt
        XCTAssertEqual(error("f0 f3 ab"), .lockNotAllowed(Opcode(0xab)))
        XCTAssertEqual(error("f0 89 00")?.description, "LOCK prefix not allowed on opcode 89")
    }
}
