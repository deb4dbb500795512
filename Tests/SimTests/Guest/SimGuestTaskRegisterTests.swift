import XCTest
@testable import Sim

/// TR after the guest's own LTR: busy, as a CPU holds it. (Unicorn caches the descriptor's type from before LTR set
/// the busy bit; a state read back with an available TSS failed the next entry, which ended Linux's boot.)
final class SimGuestTaskRegisterTests: XCTestCase {
    func testTheGuestsLTRLeavesABusyTSSAndTheNextEntryRuns() throws {
        let vm = try GuestMachine("ltr")
        var state = vm.longModeState(at: "start")
        state.tr = SimGuestSegment() // nothing loaded yet, as after a boot loader
        var exit = vm.run(&state)
        XCTAssertEqual(exit, .cpuid(nextRip: vm.image["at_cpuid"] + 2))
        XCTAssertEqual(state.tr.selector, 0x30)
        XCTAssertEqual(state.tr.base, GuestMachine.tss)
        XCTAssertEqual(state.tr.attributes & 0x9f, 0x8b, "present, busy 64-bit TSS")
        XCTAssertEqual(try vm.read64(GuestMachine.gdt + 0x30) >> 40 & 0xf, 0xb, "LTR marked the descriptor busy too")
        state.rip = exit.nextRip!
        exit = vm.run(&state)
        XCTAssertEqual(exit, .hlt(nextRip: vm.image["at_hlt"] + 1), "the state read back is entered again")
    }

    func testAnAvailableTSSInTheStateIsStillRefused() throws {
        // The check itself stays: a hypervisor that hands in an available TSS gets a failed entry.
        let vm = try GuestMachine("ltr")
        var state = vm.longModeState(at: "start")
        state.tr.attributes = 0x89
        XCTAssertEqual(vm.run(&state), .failedEntry(.badSegment(name: "tr", attributes: 0x89)))
    }
}
