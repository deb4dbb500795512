import XCTest
@testable import Sim

final class SimGuestNestedPagingTests: XCTestCase {
    func testANestedPageFaultNamesTheGuestPhysicalAddressAndAccessAndResumesAfterTheFix() throws {
        let vm = try GuestMachine("nested")
        vm.nestedOverrides[0x300000] = .some(nil)
        vm.nestedOverrides[0x301000] = SimGuestNestedMapping(hostPhysical: 0x301000 + GuestMachine.hostOffset, write: false)
        vm.nestedOverrides[0x302000] = SimGuestNestedMapping(hostPhysical: 0x302000 + GuestMachine.hostOffset, execute: false)
        try vm.write([0x48, 0xc7, 0xc1, 0x99, 0, 0, 0, 0xc3], at: 0x302000) // mov rcx, 0x99; ret
        var state = vm.longModeState(at: "start")

        XCTAssertEqual(vm.run(&state), .nestedPageFault(guestPhysical: 0x300000, access: .read))
        XCTAssertEqual(state.rip, vm.image["at_read"], "stopped at the faulting instruction")
        // The hypervisor maps the page (to a host page of its choice) and resumes: the read is retried.
        try vm.memory.write64(0x1f0_0000, 0xfeed)
        vm.nestedOverrides[0x300000] = SimGuestNestedMapping(hostPhysical: 0x1f0_0000)
        XCTAssertEqual(vm.run(&state), .nestedPageFault(guestPhysical: 0x301000, access: .write))
        XCTAssertEqual(state.r8, 0xfeed, "the guest read the page the hypervisor mapped")
        XCTAssertEqual(state.rip, vm.image["at_write"])
        vm.nestedOverrides[0x301000] = nil
        XCTAssertEqual(vm.run(&state), .nestedPageFault(guestPhysical: 0x302000, access: .execute))
        XCTAssertEqual(try vm.read64(0x301000), 0x55)
        XCTAssertEqual(state.rip, 0x302000, "the call happened; the fetch faulted")
        vm.nestedOverrides[0x302000] = nil
        XCTAssertEqual(vm.run(&state), .hlt(nextRip: vm.image["done"] + 1))
        XCTAssertEqual(state.rcx, 0x99)
    }

    func testARevokedMappingStaysVisibleThroughTheTLBUntilTheHypervisorFlushes() throws {
        let vm = try GuestMachine("nested")
        try vm.write64(0x300000, 0xaaaa)
        var state = vm.longModeState(at: "start")
        state.rip = vm.image["loop"]
        state.rbx = 0x300000
        func next() -> SimGuestExit {
            let exit = vm.run(&state)
            if case .hlt(let nextRip) = exit { state.rip = nextRip }
            return exit
        }
        XCTAssertEqual(next(), .hlt(nextRip: vm.image["again"] + 1))
        XCTAssertEqual(state.r8, 0xaaaa)
        XCTAssertEqual(vm.cpu.cachedTranslations(asid: 1) > 0, true)
        // Revoke: the nested tables no longer map the page, but nobody invalidated.
        vm.nestedOverrides[0x300000] = .some(nil)
        try vm.write64(0x300000, 0xbbbb)
        let lookupsBefore = vm.lookups
        XCTAssertEqual(next(), .hlt(nextRip: vm.image["again"] + 1))
        XCTAssertEqual(state.r8, 0xbbbb, "the stale translation still reaches the old host page")
        XCTAssertEqual(vm.lookups, lookupsBefore, "the TLB did not ask the nested tables again")
        // Another ASID has its own (empty) tag: it sees the revoke.
        var other = state
        XCTAssertEqual(vm.run(&other, asid: 2), .nestedPageFault(guestPhysical: 0x300000, access: .read))
        // Back on ASID 1 the stale entry is still there, until the flush.
        XCTAssertEqual(next(), .hlt(nextRip: vm.image["again"] + 1))
        vm.cpu.flush(asid: 1)
        XCTAssertEqual(next(), .nestedPageFault(guestPhysical: 0x300000, access: .read))
        XCTAssertEqual(state.rip, vm.image["loop"])
    }

    func testFlushAllDropsEveryASIDsTranslations() throws {
        let vm = try GuestMachine("nested")
        var state = vm.longModeState(at: "loop")
        state.rbx = 0x300000
        _ = vm.run(&state, asid: 1)
        var other = vm.longModeState(at: "loop")
        other.rbx = 0x300000
        _ = vm.run(&other, asid: 2)
        XCTAssertGreaterThan(vm.cpu.cachedTranslations(asid: 1), 0)
        XCTAssertGreaterThan(vm.cpu.cachedTranslations(asid: 2), 0)
        vm.cpu.flushAll()
        XCTAssertEqual(vm.cpu.cachedTranslations(asid: 1), 0)
        XCTAssertEqual(vm.cpu.cachedTranslations(asid: 2), 0)
    }

    func testAMissFillsTheContiguousNeighboursInItsWindowOnly() throws {
        let vm = try GuestMachine("nested")
        // 0x305000 lives elsewhere in host memory: the run of contiguous host pages ends before it.
        vm.nestedOverrides[0x305000] = SimGuestNestedMapping(hostPhysical: 0x1f0_0000)
        var state = vm.longModeState(at: "loop")
        func read(_ address: UInt64) -> Int {
            let before = vm.lookups
            state.rip = vm.image["loop"]
            state.rbx = address
            XCTAssertEqual(vm.run(&state), .hlt(nextRip: vm.image["again"] + 1))
            return vm.lookups - before
        }
        XCTAssertGreaterThan(read(0x300000), 1, "the miss asked for its neighbours too")
        XCTAssertEqual(read(0x304000), 0, "a neighbour contiguous in host memory was filled with it")
        XCTAssertGreaterThan(read(0x305000), 0, "the discontiguous page was not")
        XCTAssertGreaterThan(read(0x340000), 0, "nor a page outside the aligned 64-page window")
        try vm.memory.write64(0x1f0_0000, 0x5ca1e)
        XCTAssertEqual(read(0x305000), 0)
        XCTAssertEqual(state.r8, 0x5ca1e, "the page reached its own host page")
    }
}
