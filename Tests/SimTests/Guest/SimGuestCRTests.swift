import XCTest
@testable import Sim

final class SimGuestCRTests: XCTestCase {
    func testControlRegisterWritesAndReadsExitPerRegister() throws {
        let vm = try GuestMachine("cr")
        var state = vm.longModeState(at: "start")
        var controls = SimGuestControls()
        controls.crWrites = 1 << 4 | 1 << 0
        controls.crReads = 1 << 0
        // CR3 is not intercepted: the guest loads it itself.
        var exit = vm.run(&state, controls)
        XCTAssertEqual(exit, .crWrite(cr: 4, value: 0xa0, nextRip: vm.image["write_cr4"] + 3))
        XCTAssertEqual(state.cr3, 0x1000)
        state.cr4 = 0xa0
        state.rip = exit.nextRip!
        exit = vm.run(&state, controls)
        XCTAssertEqual(exit, .crRead(cr: 0, gpr: 13, nextRip: vm.image["read_cr0"] + 4))
        state.r13 = state.cr0
        state.rip = exit.nextRip!
        exit = vm.run(&state, controls)
        XCTAssertEqual(exit, .crWrite(cr: 0, value: state.cr0 & ~8, nextRip: vm.image["at_clts"] + 2))
        state.rip = exit.nextRip!
        XCTAssertEqual(vm.run(&state, controls), .hlt(nextRip: vm.image["done"] + 1))
        XCTAssertEqual(state.cr4, 0xa0, "the hypervisor's CR4 was loaded")
        XCTAssertEqual(state.r13, 0x8001_0011)

        var everything = controls
        everything.crWrites = 0xffff
        state.rip = vm.image["write_cr3"]
        XCTAssertEqual(vm.run(&state, everything), .crWrite(cr: 3, value: 0x1000, nextRip: vm.image["write_cr3"] + 3))
    }
}

final class SimGuestINVLPGTests: XCTestCase {
    func testINVLPGExitsWithItsLinearAddressOnlyWhenAsked() throws {
        let vm = try GuestMachine("invlpg")
        var state = vm.longModeState(at: "start")
        XCTAssertEqual(vm.run(&state), .hlt(nextRip: vm.image["done"] + 1), "not intercepted: the guest's TLB is its own")
        state = vm.longModeState(at: "start")
        var controls = SimGuestControls()
        controls.invlpg = true
        XCTAssertEqual(vm.run(&state, controls), .invlpg(address: 0x123045, nextRip: vm.image["at_invlpg"] + 4))
    }
}
