import XCTest
@testable import Sim

final class SimGuestCPUIDTests: XCTestCase {
    func testCPUIDExitsAndResumesWithTheHypervisorsAnswer() throws {
        let vm = try GuestMachine("cpuid")
        var state = vm.longModeState(at: "start")
        var exit = vm.run(&state)
        XCTAssertEqual(exit, .cpuid(nextRip: vm.image["at_cpuid"] + 2))
        XCTAssertEqual(state.rip, vm.image["at_cpuid"], "an exit stops before the instruction")
        XCTAssertEqual(state.rax, 1)
        (state.rax, state.rbx, state.rcx, state.rdx) = (0x11, 0x22, 0x33, 0x44)
        state.rip = exit.nextRip!
        exit = vm.run(&state)
        XCTAssertEqual(exit, .hlt(nextRip: vm.image["at_hlt"] + 1))
        XCTAssertEqual([state.r8, state.r9, state.r10, state.r11], [0x11, 0x22, 0x33, 0x44])
        state.rip = exit.nextRip!
        exit = vm.run(&state)
        XCTAssertEqual(exit, .hlt(nextRip: vm.image["at_hlt"] + 1 + 7 + 1))
        XCTAssertEqual(state.r12, 0x600d)
    }

    func testCPUIDWithoutInterceptRunsTheCPUModel() throws {
        let vm = try GuestMachine("cpuid")
        var state = vm.longModeState(at: "start")
        var controls = SimGuestControls()
        controls.cpuid = false
        XCTAssertEqual(vm.run(&state, controls), .hlt(nextRip: vm.image["at_hlt"] + 1))
        XCTAssertEqual(state.r11 & (1 << 4), 1 << 4, "the model's leaf 1 has TSC")
        XCTAssertEqual(state.r10 & (1 << 5), 0, "and no VMX")
        XCTAssertEqual(state.r10 & (1 << 26), 0, "and no XSAVE")
    }
}

final class SimGuestFirstBlockTests: XCTestCase {
    /// No paging, no page-table walk to fault on: the very first block of every run must still carry its hooks.
    func testTheFirstBlockOfEveryRunIsIntercepted() throws {
        let vm = try GuestMachine("cpuid", buildTables: false)
        try vm.write([0x0f, 0xa2, 0xb0, 0x42, 0xe6, 0x80, 0xf4], at: 0x1000) // cpuid; mov al, 0x42; out 0x80, al; hlt
        var state = SimGuestState.realMode(rip: 0x1000)
        var exit = vm.run(&state)
        XCTAssertEqual(exit, .cpuid(nextRip: 0x1002))
        state.rip = 0x1002
        exit = vm.run(&state)
        XCTAssertEqual(exit, .io(SimGuestIOExit(port: 0x80, size: 1, isIn: false, isString: false, isRep: false, nextRip: 0x1006)))
        XCTAssertEqual(state.rax & 0xff, 0x42)
        state.rip = 0x1006
        XCTAssertEqual(vm.run(&state), .hlt(nextRip: 0x1007))
    }
}
