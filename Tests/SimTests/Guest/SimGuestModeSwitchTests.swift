import XCTest
@testable import Sim

final class SimGuestModeSwitchTests: XCTestCase {
    func testAGuestEnteredInProtectedModeSwitchesToLongModeItself() throws {
        let vm = try GuestMachine("longmode", buildTables: false)
        var state = SimGuestState.protectedMode32(rip: vm.image["start"], rsp: 0x80000)
        var controls = SimGuestControls()
        controls.interceptsMSR = { msr, _ in msr != SimGuestMSR.efer }
        let exit = vm.run(&state, controls)
        XCTAssertEqual(exit, .cpuid(nextRip: vm.image["done"] + 2))
        XCTAssertEqual(state.rip, vm.image["done"])
        XCTAssertTrue(state.longModeActive, "EFER.LMA")
        XCTAssertEqual(state.efer & 0x500, 0x500)
        XCTAssertEqual(state.cr0 & 0x8000_0001, 0x8000_0001)
        XCTAssertEqual(state.cr3, 0x20000)
        XCTAssertTrue(state.cs.longMode, "running in a 64-bit code segment")
        XCTAssertEqual(state.cs.selector, 0x08)
        XCTAssertEqual(state.ss.selector, 0x10)
        XCTAssertEqual(state.rax, 0x1122_3344_5566_7788, "a 64-bit register write")
        XCTAssertEqual(state.rbx, vm.image["done"] + 0x10, "rip-relative addressing")
        XCTAssertEqual(try vm.read64(0x22008), 0x200083, "the guest's tables are in guest memory")
    }
}
