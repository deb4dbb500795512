import XCTest
@testable import Sim

/// The small decoder for the instructions the guest CPU handles itself: kinds, operands and lengths.
final class SimGuestInstructionTests: XCTestCase {
    private func decode(_ bytes: [UInt8], bits: Int = 64) -> SimGuestInstruction? { SimGuestInstruction.decode(bytes, bits: bits)?.0 }
    private func length(_ bytes: [UInt8], bits: Int = 64) -> Int? { SimGuestInstruction.decode(bytes, bits: bits)?.1 }

    func testSimpleOpcodes() {
        XCTAssertEqual(decode([0x0f, 0xa2]), .cpuid)
        XCTAssertEqual(decode([0xf4]), .hlt)
        XCTAssertEqual(decode([0x0f, 0x31]), .rdtsc)
        XCTAssertEqual(decode([0x0f, 0x01, 0xf9]), .rdtscp)
        XCTAssertEqual(decode([0x0f, 0x32]), .rdmsr)
        XCTAssertEqual(decode([0x0f, 0x30]), .wrmsr)
        XCTAssertEqual(decode([0x0f, 0x05]), .syscall)
        XCTAssertEqual(decode([0x0f, 0x01, 0xd1]), .xsetbv)
        XCTAssertNil(decode([0x90]))
        XCTAssertNil(decode([0x0f, 0x0b]), "ud2 is not one of them")
        XCTAssertNil(decode([0x0f, 0xc7, 0xf0]), "rdrand (register form of 0f c7 /6) is not vmptrld")
    }

    func testPortIOSizesFollowTheOperandSize() {
        XCTAssertEqual(decode([0xe4, 0x60]), .io(port: 0x60, size: 1, isIn: true, isString: false, isRep: false))
        XCTAssertEqual(decode([0xef]), .io(port: nil, size: 4, isIn: false, isString: false, isRep: false))
        XCTAssertEqual(decode([0x66, 0xef]), .io(port: nil, size: 2, isIn: false, isString: false, isRep: false))
        XCTAssertEqual(decode([0xef], bits: 16), .io(port: nil, size: 2, isIn: false, isString: false, isRep: false))
        XCTAssertEqual(decode([0x66, 0xef], bits: 16), .io(port: nil, size: 4, isIn: false, isString: false, isRep: false))
        XCTAssertEqual(decode([0xf3, 0x6d]), .io(port: nil, size: 4, isIn: true, isString: true, isRep: true))
        XCTAssertEqual(decode([0xf3, 0x66, 0x6f]), .io(port: nil, size: 2, isIn: false, isString: true, isRep: true))
        XCTAssertEqual(length([0xf3, 0x66, 0x6f]), 3)
    }

    func testControlRegisterMovesUseREXForCR8AndR8Up() {
        XCTAssertEqual(decode([0x0f, 0x22, 0xd8]), .movToCR(cr: 3, gpr: 0)) // mov cr3, rax
        XCTAssertEqual(decode([0x41, 0x0f, 0x20, 0xc5]), .movFromCR(cr: 0, gpr: 13)) // mov r13, cr0
        XCTAssertEqual(decode([0x44, 0x0f, 0x22, 0xc0]), .movToCR(cr: 8, gpr: 0)) // mov cr8, rax
        XCTAssertEqual(decode([0x0f, 0x06]), .clts)
        XCTAssertEqual(decode([0x0f, 0x01, 0xf0]), .lmsw(gpr: 0))
        XCTAssertEqual(decode([0x0f, 0x01, 0xe3]), .smsw(gpr: 3))
    }

    func testVirtualizationInstructionsAndTheirLengths() {
        XCTAssertEqual(decode([0x0f, 0x01, 0xd9]), .virtualization(.vmmcall))
        XCTAssertEqual(decode([0x0f, 0x01, 0xc1]), .virtualization(.vmcall))
        XCTAssertEqual(decode([0x0f, 0x01, 0xd8]), .virtualization(.vmrun))
        // vmxon [rax + rbx*8 + 0x12345678]: f3 0f c7 /6 with SIB and disp32.
        let vmxon: [UInt8] = [0xf3, 0x0f, 0xc7, 0xb4, 0xd8, 0x78, 0x56, 0x34, 0x12]
        XCTAssertEqual(decode(vmxon), .virtualization(.vmxon))
        XCTAssertEqual(length(vmxon), 9)
        XCTAssertEqual(decode([0x66, 0x0f, 0xc7, 0x30]), .virtualization(.vmclear))
        XCTAssertEqual(decode([0x0f, 0xc7, 0x38]), .virtualization(.vmptrst))
        XCTAssertEqual(decode([0x0f, 0x78, 0xc1]), .virtualization(.vmread))
        XCTAssertEqual(length([0x66, 0x0f, 0x38, 0x80, 0x08]), 5)
        XCTAssertEqual(decode([0x66, 0x0f, 0x38, 0x81, 0x08]), .virtualization(.invvpid))
    }

    func testINVLPGComputesItsLinearAddress() throws {
        var state = SimGuestState()
        state.rbx = 0x1000
        state.rsi = 0x20
        // invlpg [rbx + rsi*4 + 0x10]
        guard case .invlpg(let operand)? = decode([0x0f, 0x01, 0x7c, 0xb3, 0x10]) else { return XCTFail("not invlpg") }
        XCTAssertEqual(operand.address(in: state, nextRip: 0), 0x1000 + 0x80 + 0x10)
        // invlpg [rip + 0x100]
        guard case .invlpg(let relative)? = decode([0x0f, 0x01, 0x3d, 0x00, 0x01, 0, 0]) else { return XCTFail("not invlpg") }
        XCTAssertEqual(relative.address(in: state, nextRip: 0x5000), 0x5100)
        XCTAssertEqual(length([0x0f, 0x01, 0x3d, 0x00, 0x01, 0, 0]), 7)
        // 16-bit addressing: invlpg [bx + si]
        guard case .invlpg(let real)? = decode([0x0f, 0x01, 0x38], bits: 16) else { return XCTFail("not invlpg") }
        XCTAssertEqual(real.address(in: state, nextRip: 0), 0x1020)
    }

    func testTruncatedBytesAreNotDecoded() {
        XCTAssertNil(decode([0x0f]))
        XCTAssertNil(decode([0xe4]))
        XCTAssertNil(decode([0xf3, 0x0f, 0xc7, 0xb4]))
        XCTAssertNil(decode([]))
    }
}
