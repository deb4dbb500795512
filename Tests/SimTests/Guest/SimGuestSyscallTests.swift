import XCTest
@testable import Sim

final class SimGuestSyscallTests: XCTestCase {
    func testSYSCALLFromTheGuestsUserSpaceEntersItsKernelThroughLSTAR() throws {
        let vm = try GuestMachine("syscall")
        var state = vm.longModeState(at: "start")
        var controls = SimGuestControls()
        controls.interceptsMSR = { _, _ in false }
        XCTAssertEqual(vm.run(&state, controls), .hlt(nextRip: vm.image["done"] + 1))
        XCTAssertEqual(state.r15, 43, "the first system call returned through SYSRET")
        XCTAssertEqual(state.r12, vm.image["after_syscall"] + 2 + 3 + 2 + 2, "RCX: the second SYSCALL's next rip")
        XCTAssertEqual(state.r13 & 0x200, 0x200, "R11: the user's RFLAGS")
        XCTAssertEqual(state.r10 & 0x200, 0, "SFMASK cleared IF")
        XCTAssertEqual(state.r14, 0x08, "kernel CS from STAR")
        XCTAssertEqual(state.cs.selector, 0x08)
        XCTAssertEqual(state.ss.selector, 0x10)
        XCTAssertEqual(state.cpl, 0)
        XCTAssertEqual(state.rsp, 0x70000, "SYSCALL keeps the user stack")
    }

    func testSYSCALLWithoutEFERSCEIsAnInvalidOpcode() throws {
        let vm = try GuestMachine("syscall")
        var state = vm.longModeState(at: "after_syscall")
        var controls = SimGuestControls()
        controls.exceptionBitmap = 1 << 6
        XCTAssertEqual(vm.run(&state, controls), .exception(vector: 6, errorCode: nil, cr2: nil))
        XCTAssertEqual(state.rip, vm.image["after_syscall"])
    }
}
