import KernelABI
import Sim
import XCTest
@testable import Kernel

/// What the exit path leaves where (VirtualCPU's staleGroups/dirtyGroups, Kernel.runOnce's slice continuation):
/// the state a handler does not ask for stays with the hardware until someone reads it, what a reply writes reaches
/// the guest, and a vCPU alone at its priority runs on through its slices without a scheduling pass.
extension VirtualMachineTests {

    func testBulkyGroupsStayWithTheHardwareUntilReadAndRepliesReachTheGuest() throws {
        // Real mode at 0x1000: mov ax, 0x1234; mov bx, 0x5678; cpuid; add ax, 1; cpuid; hlt
        let code: [UInt8] = [0xb8, 0x34, 0x12, 0xbb, 0x78, 0x56, 0x0f, 0xa2, 0x05, 0x01, 0x00, 0x0f, 0xa2, 0xf4]
        let (h, _) = try makeVM(mtd: TransferDescriptor.instructionPointer, code: code)
        start(h)
        XCTAssertEqual(runToExit(h), VMExit.cpuid)
        let vcpu = try XCTUnwrap(self.vcpu(h).vcpu)
        XCTAssertEqual(vcpu.staleGroups & GuestState.deferrableGroups, GuestState.deferrableGroups,
                       "a portal asking for rip only leaves registers, control registers and segments in the engine")
        XCTAssertEqual(vcpu.state.registers[0], 0, "not fetched: the kernel's copy is the one from before the run")
        h.kernel.currentGuestState(vcpu, groups: TransferDescriptor.generalRegisters)
        XCTAssertEqual(vcpu.state.registers[0] & 0xffff, 0x1234, "fetched on demand")
        XCTAssertEqual(vcpu.state.registers[3] & 0xffff, 0x5678)
        XCTAssertEqual(vcpu.staleGroups & TransferDescriptor.generalRegisters, 0)

        // The reply writes rip only: the guest's own registers go on (ax + 1), nothing needs an entry check.
        set(h, GuestStateLayout.rip, 0x1008)
        reply(h, mtd: TransferDescriptor.instructionPointer)
        XCTAssertEqual(vcpu.dirtyGroups & GuestState.checkedGroups, 0)
        XCTAssertNil(h.kernel.entryProblem(vcpu))
        XCTAssertEqual(runToExit(h), VMExit.cpuid)
        h.kernel.currentGuestState(vcpu, groups: TransferDescriptor.all)
        XCTAssertEqual(vcpu.state.registers[0] & 0xffff, 0x1235, "the guest kept its registers across the exit")

        // A reply that writes registers goes straight to the engine: the kernel's copy is stale, the guest sees it.
        let handlerUTCB = handlerEC(h)
        for i in 0..<15 { h.kernel.setUTCBWord(handlerUTCB, GuestStateLayout.firstGeneralRegister + i, UInt64(0x100 + i)) }
        set(h, GuestStateLayout.rip, 0x100d)
        reply(h, mtd: TransferDescriptor.instructionPointer | TransferDescriptor.generalRegisters)
        XCTAssertNotEqual(vcpu.staleGroups & TransferDescriptor.generalRegisters, 0)
        XCTAssertEqual(vcpu.dirtyGroups & TransferDescriptor.generalRegisters, 0)
        XCTAssertEqual(runToExit(h), VMExit.hlt)
        h.kernel.currentGuestState(vcpu, groups: TransferDescriptor.generalRegisters)
        XCTAssertEqual(vcpu.state.registers, (0..<15).map { UInt64(0x100 + $0) }, "the replied registers ran")

        // A reply that changes what the entry check reads is checked before the next entry.
        set(h, GuestStateLayout.cr0, 0x8000_0000)   // PG without PE
        for (i, w) in [(GuestStateLayout.cr2, 0), (GuestStateLayout.cr3, 0), (GuestStateLayout.cr4, 0), (GuestStateLayout.efer, 0)] as [(Int, UInt64)] {
            set(h, i, w)
        }
        reply(h, mtd: TransferDescriptor.controlRegisters)
        XCTAssertNotNil(h.kernel.entryProblem(vcpu))
        h.assertInvariants("after deferred exits")
    }

    func testAVCPUAloneAtItsPriorityRunsSlicesWithoutASchedulingPass() throws {
        // Real mode at 0x1000: jmp $ (spins through its slices).
        let (h, _) = try makeVM(code: [0xeb, 0xfe], priority: Scheduler.maxPriority)
        start(h)
        let ec = vcpu(h)
        let sc = try XCTUnwrap(ec.boundSC)
        // The root (the test's VMM, at the same priority) steps aside, as a VMM waiting for exits would.
        if let rootSC = h.rootEC.boundSC { h.kernel.scheduler.remove(rootSC) }
        XCTAssertTrue(h.kernel.scheduler.highest === sc, "the vCPU's SC is the highest ready one here")
        let before = h.kernel.statistics
        h.kernel.runOnce(ec, on: sc)
        let after = h.kernel.statistics
        XCTAssertEqual(after.timerExits - before.timerExits, UInt64(Kernel<SimPlatform>.maxSlicesInARow) + 1,
                       "slices continued in one runOnce, then the last timer exit goes to the scheduler")
        XCTAssertEqual(after.steps, before.steps, "no scheduling pass in between")
        XCTAssertEqual(ec.state, .ready, "still spinning")
    }
}
