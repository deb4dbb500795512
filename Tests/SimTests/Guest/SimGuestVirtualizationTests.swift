import XCTest
@testable import Sim

final class SimGuestVirtualizationTests: XCTestCase {
    func testSVMAndVMXInstructionsAlwaysExit() throws {
        let vm = try GuestMachine("virtualization")
        var state = vm.longModeState(at: "start")
        var controls = SimGuestControls()
        controls.exceptionBitmap = 0xffff_ffff // a #UD would show as an exception exit instead
        let expected: [(String, SimGuestVirtualizationInstruction, UInt64)] = [
            ("at_vmmcall", .vmmcall, 3), ("at_vmcall", .vmcall, 3), ("at_vmxon", .vmxon, 8), ("at_vmrun", .vmrun, 3),
            ("at_vmlaunch", .vmlaunch, 3),
        ]
        for (symbol, kind, length) in expected {
            let exit = vm.run(&state, controls)
            XCTAssertEqual(exit, .virtualization(kind, nextRip: vm.image[symbol] + length), symbol)
            XCTAssertEqual(state.rip, vm.image[symbol])
            state.rip = exit.nextRip ?? state.rip
        }
        XCTAssertEqual(vm.run(&state, controls), .hlt(nextRip: vm.image["done"] + 1))
    }
}
