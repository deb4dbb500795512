import XCTest
@testable import Sim

final class SimGuestMSRTests: XCTestCase {
    func testRDMSRAndWRMSRExitWithTheMSRAndValue() throws {
        let vm = try GuestMachine("msr")
        var state = vm.longModeState(at: "start")
        var exit = vm.run(&state)
        XCTAssertEqual(exit, .msrRead(msr: 0x1b, nextRip: vm.image["at_rdmsr"] + 2))
        state.rax = 0xfee0_0900
        state.rip = exit.nextRip!
        exit = vm.run(&state)
        XCTAssertEqual(exit, .msrWrite(msr: 0x277, value: 0x0007_0406_0604_0600, nextRip: vm.image["at_wrmsr"] + 2))
        XCTAssertEqual(state.r8, 0xfee0_0900)
    }

    func testAnMSRLetThroughIsTheGuestsOwnAndAnUnknownOneRaisesGP() throws {
        let vm = try GuestMachine("msr")
        var state = vm.longModeState(at: "start")
        state.rip = vm.image["own_msrs"]
        var controls = SimGuestControls()
        controls.interceptsMSR = { _, _ in false }
        controls.exceptionBitmap = 1 << 13
        XCTAssertEqual(vm.run(&state, controls), .exception(vector: 13, errorCode: 0, cr2: nil))
        XCTAssertEqual(state.rip, vm.image["at_unknown"], "the fault is reported at the RDMSR")
        XCTAssertEqual(state.r9, 0x9abc_1234_5678)
        XCTAssertEqual(state.lstar, 0x9abc_1234_5678, "LSTAR is part of the guest state")
    }
}
