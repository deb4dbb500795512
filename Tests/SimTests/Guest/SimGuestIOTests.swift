import XCTest
@testable import Sim

final class SimGuestIOTests: XCTestCase {
    func testEveryFormOfPortIOExitsWithPortSizeDirectionAndStringInfo() throws {
        let vm = try GuestMachine("io")
        var state = vm.longModeState(at: "start")
        var controls = SimGuestControls()
        var passthrough: [String] = []
        controls.interceptsPort = { $0 != 0x61 }
        controls.ioPassthrough = { port, size, value in
            passthrough.append("\(value == nil ? "in" : "out") \(String(port, radix: 16)) \(size) \(value.map { String($0, radix: 16) } ?? "")")
            return 0x77
        }
        func io(_ symbol: String, _ port: UInt16, _ size: Int, isIn: Bool, string: Bool = false, rep: Bool = false,
                length: UInt64) -> SimGuestExit {
            .io(SimGuestIOExit(port: port, size: size, isIn: isIn, isString: string, isRep: rep, nextRip: vm.image[symbol] + length))
        }
        let expected: [(String, SimGuestExit, (inout SimGuestState) -> Void)] = [
            ("out_byte", io("out_byte", 0x80, 1, isIn: false, length: 2), { XCTAssertEqual($0.rax & 0xff, 0x41) }),
            ("out_word", io("out_word", 0x3f8, 2, isIn: false, length: 2), { XCTAssertEqual($0.rax & 0xffff, 0x4243) }),
            ("out_dword", io("out_dword", 0x3f8, 4, isIn: false, length: 1), { XCTAssertEqual($0.rax, 0x4445_4647) }),
            ("in_byte", io("in_byte", 0x60, 1, isIn: true, length: 2), { $0.rax = ($0.rax & ~0xff) | 0x12 }),
            ("in_word", io("in_word", 0x3f8, 2, isIn: true, length: 2), { $0.rax = ($0.rax & ~0xffff) | 0x3456 }),
            ("in_dword", io("in_dword", 0x3f8, 4, isIn: true, length: 1), { $0.rax = 0x789a_bcde }),
            ("rep_outsb", io("rep_outsb", 0x3f8, 1, isIn: false, string: true, rep: true, length: 2), {
                XCTAssertEqual($0.rcx, 3)
                $0.rsi += 3
                $0.rcx = 0
            }),
            ("outsw", io("outsw", 0x3f8, 2, isIn: false, string: true, length: 2), { $0.rsi += 2 }),
            ("rep_insd", io("rep_insd", 0x3f8, 4, isIn: true, string: true, rep: true, length: 2), {
                XCTAssertEqual($0.rcx, 2)
                $0.rcx = 0
            }),
        ]
        for (symbol, exit, emulate) in expected {
            let got = vm.run(&state, controls)
            XCTAssertEqual(got, exit, symbol)
            XCTAssertEqual(state.rip, vm.image[symbol], symbol)
            emulate(&state)
            state.rip = got.nextRip ?? state.rip
        }
        XCTAssertEqual(vm.run(&state, controls), .hlt(nextRip: vm.image["done"] + 1))
        XCTAssertEqual([state.r8 & 0xff, state.r9 & 0xffff, state.r10], [0x12, 0x3456, 0x789a_bcde])
        XCTAssertEqual(passthrough, ["out 61 1 5a", "in 61 1 "], "port 0x61 is not intercepted")
        XCTAssertEqual(state.r11 & 0xff, 0x77)
    }

    func testAWordAccessIsInterceptedIfAnyOfItsPortsIs() throws {
        let vm = try GuestMachine("io")
        var state = vm.longModeState(at: "start")
        state.rip = vm.image["out_word"]
        state.rdx = 0x3f7
        var controls = SimGuestControls()
        controls.interceptsPort = { $0 == 0x3f8 }
        XCTAssertEqual(vm.run(&state, controls).nextRip, vm.image["out_word"] + 2)
    }
}
