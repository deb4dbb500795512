import XCTest
@testable import Sim

final class SimGuestTimeTests: XCTestCase {
    private func runOnce(tscOffset: UInt64) throws -> (SimGuestState, UInt64) {
        let vm = try GuestMachine("rdtsc")
        var state = vm.longModeState(at: "start")
        state.tscOffset = tscOffset
        XCTAssertEqual(vm.run(&state), .hlt(nextRip: vm.image["done"] + 1))
        return (state, vm.cpu.clock)
    }

    func testRDTSCReadsVirtualTimePlusTheOffsetAndIsDeterministic() throws {
        let (state, clock) = try runOnce(tscOffset: 1_000_000)
        // Guest instructions before the first RDTSC: mov. Between the two: shl, or, mov, 100 x (dec, jnz).
        XCTAssertEqual(state.r8, 1_000_000 + 1)
        XCTAssertEqual(state.r9 - state.r8, 3 + 200 + 1 - 1 + 1, "rdtsc, shl, or, mov, 200 loop instructions")
        let (again, clockAgain) = try runOnce(tscOffset: 1_000_000)
        XCTAssertEqual([again.r8, again.r9, clockAgain], [state.r8, state.r9, clock], "the same guest, the same times")
        let (shifted, _) = try runOnce(tscOffset: 5)
        XCTAssertEqual(shifted.r9 - shifted.r8, state.r9 - state.r8)
        XCTAssertEqual(shifted.r8, 6)
    }

    func testRDTSCCanBeIntercepted() throws {
        let vm = try GuestMachine("rdtsc")
        var state = vm.longModeState(at: "start")
        var controls = SimGuestControls()
        controls.rdtsc = true
        XCTAssertEqual(vm.run(&state, controls), .rdtsc(nextRip: vm.image["first"] + 2))
        XCTAssertEqual(state.rip, vm.image["first"])
    }

    func testASliceEndsWithBudgetExhaustedAndTheClockAdvancesByTheSlice() throws {
        let vm = try GuestMachine("rdtsc")
        var state = vm.longModeState(at: "start")
        var exits: [SimGuestExit] = []
        var clocks: [UInt64] = []
        while exits.last != .hlt(nextRip: vm.image["done"] + 1) && exits.count < 100 {
            exits.append(vm.run(&state, budget: 50))
            clocks.append(vm.cpu.clock)
        }
        XCTAssertEqual(exits.filter { $0 == .budgetExhausted }.count, 4, "about 206 instructions in slices of 50")
        for (previous, next) in zip(clocks, clocks.dropFirst()) {
            XCTAssertLessThanOrEqual(next - previous, 50 + 3, "a slice ends at the first block boundary after the budget")
        }
        XCTAssertEqual(state.r9 - state.r8, 204, "preemption does not change what the guest measures")
    }

    func testARecallForcesAnExitAndIsNeverLost() throws {
        let vm = try GuestMachine("io")
        var state = vm.longModeState(at: "passthrough")
        var controls = SimGuestControls()
        controls.interceptsPort = { $0 != 0x61 }
        let cpu = vm.cpu!
        controls.ioPassthrough = { _, _, written in
            if written != nil { cpu.recall() } // a device model that wants an interrupt injected
            return 0
        }
        XCTAssertEqual(vm.run(&state, controls), .recall)
        XCTAssertEqual(state.rip, vm.image["passthrough"] + 2, "the OUT completed; nothing after it ran")
        XCTAssertEqual(vm.run(&state, controls), .hlt(nextRip: vm.image["done"] + 1), "answered once")
        // A recall while the vCPU is not running is remembered for the next entry.
        cpu.recall()
        let clock = cpu.clock
        XCTAssertEqual(vm.run(&state, controls), .recall)
        XCTAssertEqual(cpu.clock, clock, "before any guest instruction")
        XCTAssertEqual(state.rip, vm.image["done"])
    }
}
