import XCTest
@testable import Sim

final class SimGuestExceptionTests: XCTestCase {
    private func machine() throws -> GuestMachine {
        let vm = try GuestMachine("pagefault")
        try vm.write64(GuestMachine.pt + 0x150 * 8, 0) // 0x150000 not present in the guest's tables
        try vm.setGate(14, vm.image["pf_handler"])
        try vm.setGate(8, vm.image["df_handler"], ist: 1)
        return vm
    }

    func testAGuestPageFaultIsHandledByTheGuestsOwnHandlerInLongMode() throws {
        let vm = try machine()
        var state = vm.longModeState(at: "start")
        XCTAssertEqual(vm.run(&state), .hlt(nextRip: vm.image["done"] + 1))
        XCTAssertEqual(state.r15, 1, "the handler ran once")
        XCTAssertEqual(state.r13, 2, "error code: not present, write, supervisor")
        XCTAssertEqual(state.r14, 0x150000, "CR2")
        XCTAssertEqual(state.r8, 0x1234, "the write was retried after the handler returned")
        XCTAssertEqual(try vm.read64(0x150000), 0x1234)
        XCTAssertEqual(state.rsp, GuestMachine.stackTop, "iretq popped the whole frame")
    }

    func testTheExceptionBitmapTurnsAFaultIntoAnExitBeforeDelivery() throws {
        let vm = try machine()
        var state = vm.longModeState(at: "start")
        var controls = SimGuestControls()
        controls.exceptionBitmap = 1 << 14 | 1 << 6 | 1 << 3 | 1 << 0
        XCTAssertEqual(vm.run(&state, controls), .exception(vector: 14, errorCode: 2, cr2: 0x150000))
        XCTAssertEqual(state.rip, vm.image["at_fault"])
        XCTAssertEqual(state.cr2, 0x150000)
        XCTAssertEqual(state.r15, 0, "not delivered")
        state.rip = vm.image["at_ud2"]
        XCTAssertEqual(vm.run(&state, controls), .exception(vector: 6, errorCode: nil, cr2: nil))
        XCTAssertEqual(state.rip, vm.image["at_ud2"])
        state.rip = vm.image["at_int3"]
        XCTAssertEqual(vm.run(&state, controls), .exception(vector: 3, errorCode: nil, cr2: nil))
        XCTAssertEqual(state.rip, vm.image["at_int3"])
        state.rip = vm.image["at_div"]
        XCTAssertEqual(vm.run(&state, controls), .exception(vector: 0, errorCode: nil, cr2: nil))
        XCTAssertEqual(state.rip, vm.image["at_div"] + 2)
    }

    func testAFaultWhileDeliveringAPageFaultBecomesADoubleFault() throws {
        let vm = try machine()
        try vm.setGate(14, vm.image["pf_handler"], ist: 2)
        try vm.write64(GuestMachine.tss + 0x2c, 0x160000) // IST2: a stack page that is not present
        try vm.write64(GuestMachine.pt + 0x15f * 8, 0)
        var state = vm.longModeState(at: "start")
        XCTAssertEqual(vm.run(&state), .hlt(nextRip: vm.image["df_done"] + 1))
        XCTAssertEqual(state.r12, 0xdf)
        XCTAssertEqual(state.r13, 0, "#DF pushes error code 0")
        XCTAssertEqual(state.cr2, 0x15fff8, "CR2 of the second fault")
        XCTAssertEqual(state.rsp, GuestMachine.ist1 - 40, "on the IST1 stack: the five-word frame, error code popped")
    }

    func testAFaultWithoutAUsableIDTIsATripleFaultShutdown() throws {
        let vm = try machine()
        var state = vm.longModeState(at: "at_ud2")
        state.idtr.limit = 0
        XCTAssertEqual(vm.run(&state), .shutdown)
    }
}

final class SimGuestDeliveryExitTests: XCTestCase {
    func testAnExitWhileDeliveringKeepsTheEventPendingAndDeliversItOnTheNextEntry() throws {
        let vm = try GuestMachine("pagefault")
        try vm.write64(GuestMachine.pt + 0x150 * 8, 0)
        try vm.setGate(14, vm.image["pf_handler"], ist: 2)
        try vm.write64(GuestMachine.tss + 0x2c, 0x160000)
        try vm.setGate(8, vm.image["df_handler"], ist: 1)
        // The guest's #PF stack page is not given by the nested tables: delivering the #PF needs the hypervisor.
        vm.nestedOverrides[0x15f000] = .some(nil)
        var state = vm.longModeState(at: "start")
        XCTAssertEqual(vm.run(&state), .nestedPageFault(guestPhysical: 0x15fff8, access: .write))
        XCTAssertEqual(state.pendingEvent, SimGuestEvent(vector: 14, type: .exception, errorCode: 2))
        XCTAssertEqual(state.rip, vm.image["at_fault"])
        vm.nestedOverrides[0x15f000] = nil
        XCTAssertEqual(vm.run(&state), .hlt(nextRip: vm.image["done"] + 1))
        XCTAssertEqual(state.r15, 1, "the #PF was delivered once, after the fix")
        XCTAssertEqual(state.r13, 2)
        XCTAssertEqual(state.r8, 0x1234)
    }
}
