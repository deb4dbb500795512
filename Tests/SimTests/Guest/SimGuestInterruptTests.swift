import XCTest
@testable import Sim

final class SimGuestInterruptTests: XCTestCase {
    private func machine() throws -> GuestMachine {
        let vm = try GuestMachine("interrupts")
        try vm.setGate(0x20, vm.image["irq_handler"])
        return vm
    }

    private let irq = SimGuestEvent(vector: 0x20, type: .externalInterrupt)

    func testAnInjectedInterruptIsDeliveredAtOnceWhenIFIsSet() throws {
        let vm = try machine()
        var state = vm.longModeState(at: "after_shadow")
        state.rflags = 0x202
        state.pendingEvent = irq
        XCTAssertEqual(vm.run(&state), .hlt(nextRip: vm.image["done"] + 1))
        XCTAssertEqual(state.r12, 1)
        XCTAssertEqual(state.r11, 0, "delivered before the first guest instruction")
        XCTAssertEqual(state.r14, 2)
        XCTAssertNil(state.pendingEvent)
    }

    func testAnInterruptIsHeldWhileIFIsClearAndTakenAfterTheSTIShadow() throws {
        let vm = try machine()
        var state = vm.longModeState(at: "start")
        state.pendingEvent = irq
        XCTAssertEqual(vm.run(&state), .hlt(nextRip: vm.image["done"] + 1))
        XCTAssertEqual(state.r12, 1, "delivered once")
        XCTAssertEqual(state.r10, 1, "the instruction after STI ran first")
        XCTAssertEqual(state.r11, 0, "and only that one")
    }

    func testTheInterruptWindowExitComesWhenTheGuestCanTakeAnInterrupt() throws {
        let vm = try machine()
        var state = vm.longModeState(at: "start")
        var controls = SimGuestControls()
        controls.interruptWindow = true
        XCTAssertEqual(vm.run(&state, controls), .interruptWindow)
        XCTAssertEqual(state.rip, vm.image["after_shadow"])
        XCTAssertEqual(state.r13, 1)
        XCTAssertFalse(state.interruptShadow)
        XCTAssertTrue(state.interruptsEnabled)
        state.pendingEvent = irq
        XCTAssertEqual(vm.run(&state), .hlt(nextRip: vm.image["done"] + 1))
        XCTAssertEqual(state.r12, 1)
        XCTAssertEqual(state.r11, 0)
    }

    func testHLTWithoutInterceptWaitsForAnInterrupt() throws {
        let vm = try machine()
        var state = vm.longModeState(at: "start")
        var controls = SimGuestControls()
        controls.hlt = false
        XCTAssertEqual(vm.run(&state, controls), .halted)
        XCTAssertEqual(state.activity, .halted)
        XCTAssertEqual(state.rip, vm.image["after_halt"])
        XCTAssertEqual(vm.run(&state, controls), .halted, "nothing wakes it")
        state.pendingEvent = irq
        XCTAssertEqual(vm.run(&state, controls), .halted)
        XCTAssertEqual(state.r12, 1, "woken, handled, halted again")
        XCTAssertEqual(state.rip, vm.image["after_halt"])
    }

    func testRealModeInterruptsGoThroughTheIVT() throws {
        let vm = try GuestMachine("realmode", buildTables: false)
        try vm.write([UInt8(vm.image["handler"] & 0xff), UInt8(vm.image["handler"] >> 8 & 0xff), 0x00, 0x10], at: 0x20 * 4)
        var state = SimGuestState.realMode(rip: 0)
        state.cs = .real(0x1000, code: true)
        state.ss = .real(0x2000)
        state.rsp = 0x100
        XCTAssertEqual(vm.run(&state), .hlt(nextRip: vm.image["done"] - 0x10000 + 1))
        state.rflags |= 0x200
        state.rip = vm.image["start"] - 0x10000
        state.pendingEvent = irq
        XCTAssertEqual(vm.run(&state), .hlt(nextRip: vm.image["done"] - 0x10000 + 1))
        XCTAssertEqual(state.rbx & 0xffff, 0, "delivered at entry, then the guest cleared bx")
        state.rip = vm.image["done"] - 0x10000
        state.pendingEvent = irq
        XCTAssertEqual(vm.run(&state), .hlt(nextRip: vm.image["done"] - 0x10000 + 1))
        XCTAssertEqual(state.rbx & 0xffff, 1, "the IVT handler ran")
        XCTAssertEqual(state.rsp, 0x100, "iret popped ip, cs, flags")
        XCTAssertEqual(state.cs.selector, 0x1000)
    }

    func testProtectedModeInterruptsAndExceptionsGoThroughTheGuestsGates() throws {
        let vm = try GuestMachine("protected32", buildTables: false)
        try vm.write64(0x5000 + 8, 0x00cf_9a00_0000_ffff)
        try vm.write64(0x5000 + 16, 0x00cf_9200_0000_ffff)
        func gate(_ vector: UInt64, _ handler: UInt64) throws {
            try vm.write64(0x7000 + 8 * vector, (handler & 0xffff) | 0x08 << 16 | 0x8e << 40 | (handler >> 16) << 48)
        }
        try gate(0x20, vm.image["handler"])
        try gate(13, vm.image["gp_handler"])
        var state = SimGuestState.protectedMode32(rip: vm.image["done"] + 1 - 1, rsp: 0x80000)
        state.gdtr = SimGuestDescriptorTable(base: 0x5000, limit: 0x17)
        state.idtr = SimGuestDescriptorTable(base: 0x7000, limit: 0x7ff)
        state.rflags = 0x202
        state.pendingEvent = irq
        XCTAssertEqual(vm.run(&state), .hlt(nextRip: vm.image["done"] + 1))
        XCTAssertEqual(state.rbx, 1)
        XCTAssertEqual(state.rsp, 0x80000)
        state.rip = vm.image["at_fault"]
        XCTAssertEqual(vm.run(&state).nextRip, vm.image["gp_handler"] + 7)
        XCTAssertEqual(state.rsi, 0x10, "#GP error code: the selector")
        XCTAssertEqual(state.rdi, 0x6f)
        XCTAssertEqual(state.rsp, 0x80000 - 12, "eip, cs, eflags left on the stack")
    }
}

final class SimGuestNMITests: XCTestCase {
    func testAnNMIIsDeliveredEvenWithIFClear() throws {
        let vm = try GuestMachine("interrupts")
        try vm.setGate(2, vm.image["irq_handler"])
        var state = vm.longModeState(at: "after_shadow")
        state.pendingEvent = SimGuestEvent(vector: 2, type: .nmi)
        XCTAssertEqual(vm.run(&state), .hlt(nextRip: vm.image["done"] + 1))
        XCTAssertEqual(state.r12, 1)
        XCTAssertEqual(state.r11, 0, "before the first guest instruction")
        XCTAssertFalse(state.interruptsEnabled)
    }
}
