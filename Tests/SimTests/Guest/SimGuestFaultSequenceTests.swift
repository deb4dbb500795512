import XCTest
@testable import Sim

final class SimGuestFaultSequenceTests: XCTestCase {
    private func machine() throws -> GuestMachine {
        let vm = try GuestMachine("manyfaults")
        for page in 0x150..<0x154 as Range<UInt64> { try vm.write64(GuestMachine.pt + page * 8, 0) }
        try vm.setGate(14, vm.image["pf_handler"])
        try vm.setGate(8, vm.image["df_handler"], ist: 1)
        return vm
    }

    func testFaultAfterFaultIsDeliveredEachTimeNotADoubleFault() throws {
        let vm = try machine()
        var state = vm.longModeState(at: "start")
        XCTAssertEqual(vm.run(&state), .hlt(nextRip: vm.image["done"] + 1))
        XCTAssertEqual(state.r15, 4, "four page faults, four handler runs")
        XCTAssertEqual(state.r12, 0, "no #DF")
        XCTAssertEqual(state.r14, 0x153000)
        for (i, page) in (0x150..<0x154 as Range<UInt64>).enumerated() {
            XCTAssertEqual(try vm.read64(page << 12), UInt64(4 - i))
        }
    }

    func testAnExceptionInjectedByTheHypervisorReachesTheGuestsHandler() throws {
        let vm = try machine()
        var state = vm.longModeState(at: "done")
        state.cr2 = 0x123456
        state.pendingEvent = SimGuestEvent(vector: 14, type: .exception, errorCode: 0x15)
        XCTAssertEqual(vm.run(&state), .hlt(nextRip: vm.image["done"] + 1))
        XCTAssertEqual(state.r13, 0x15, "the injected error code")
        XCTAssertEqual(state.r14, 0x123456, "CR2 as the hypervisor set it")
        XCTAssertEqual(state.r15, 1)
    }

    func testANestedFaultOnTheGuestsPageTablesNamesTheTablePage() throws {
        let vm = try machine()
        vm.nestedOverrides[GuestMachine.pt] = .some(nil) // the guest's last-level table is not given to it
        var state = vm.longModeState(at: "start")
        XCTAssertEqual(vm.run(&state), .nestedPageFault(guestPhysical: GuestMachine.pt + 0x10 * 8, access: .read))
        XCTAssertEqual(state.rip, vm.image["start"], "the fetch of the first instruction walks through it")
        vm.nestedOverrides[GuestMachine.pt] = nil
        XCTAssertEqual(vm.run(&state), .hlt(nextRip: vm.image["done"] + 1))
        XCTAssertEqual(state.r15, 4)
    }

    func testTwoRunsOfTheSameGuestGiveTheSameExitsAtTheSameVirtualTimes() throws {
        func trace() throws -> [String] {
            let vm = try machine()
            var state = vm.longModeState(at: "start")
            var controls = SimGuestControls()
            controls.interruptWindow = false
            var lines: [String] = []
            for budget in [3, 7, 1, 50, 1000] as [UInt64] {
                let exit = vm.run(&state, controls, budget: budget)
                lines.append("\(exit) rip \(state.rip) clock \(vm.cpu.clock) r15 \(state.r15)")
            }
            return lines
        }
        let first = try trace()
        XCTAssertEqual(try trace(), first)
        XCTAssertEqual(first.last?.hasPrefix("hlt"), true, "\(first)")
        XCTAssertGreaterThan(Set(first.map { $0.split(separator: " ").last! }).count, 1, "faults were taken between slices")
    }
}
