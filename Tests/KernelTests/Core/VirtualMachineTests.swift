import Foundation
import KernelABI
import Sim
import XCTest
@testable import Kernel

/// VM PDs, vCPUs and exits as portal calls, on the simulator's guest CPU: the test plays the VMM (root) and its
/// exit handler, and checks what the kernel delivers and what a reply may change (ABI.md, "Virtual machines").
class VirtualMachineTests: XCTestCase {
    static let vm: UInt64 = 300, handler: UInt64 = 301, vcpu: UInt64 = 302, sc: UInt64 = 303
    /// The nested-table format the machine builds VM PDs in (VirtualMachineEPTTests runs every test on EPT).
    var nestedPaging: NestedPagingFormat { .x86_64 }
    static let eventBase: UInt64 = 1024
    static let handlerUTCB: UInt64 = 0x90_0002_0000

    /// A VMM (root) with one VM: 2 MiB of guest memory at guest-physical 0, a handler EC and exit portals for
    /// every exit with `mtd`, one vCPU with its SC. Returns the harness and the guest memory's physical base.
    func makeVM(mtd: UInt64 = TransferDescriptor.all, code: [UInt8], at offset: UInt64 = 0x1000,
                priority: UInt64 = 10) throws
        -> (KernelHarness, UInt64) {
        let h = try KernelHarness(memorySize: 64 << 20, nestedPaging: nestedPaging)
        let root = h.rootEC
        XCTAssertEqual(h.status(root, .createPD, Self.vm, 64, Permissions.all, PDFlags.vm), .success)
        let block = try XCTUnwrap(h.windowBlock(order: 9))
        XCTAssertEqual(h.status(root, .delegate, Self.vm, CapabilityRange(kind: .memory, base: block, order: 9, permissions: 7).word, 0),
                       .success)
        let physical = (block << 12) - AddressLayout.physicalWindow
        write(h, code, at: physical + offset)
        XCTAssertEqual(h.status(root, .createEC, Self.handler, RootSelectors.ownPD, Self.handlerUTCB, 0x90_1000_0000, 0x80_0000_0000, 0), .success)
        for exit in 0..<VMExit.count {
            XCTAssertEqual(h.status(root, .createPT, Self.eventBase + exit, Self.handler, 0x80_0000_1000, exit, mtd), .success)
        }
        XCTAssertEqual(h.status(root, .createEC, Self.vcpu, Self.vm, 0, 0, 0, ECFlags.global | ECFlags.vcpu | Self.eventBase << 8), .success)
        XCTAssertEqual(h.status(root, .createSC, Self.sc, Self.vcpu, priority, 1000), .success)
        h.assertInvariants("after building the VM")
        return (h, physical)
    }

    func write(_ h: KernelHarness, _ bytes: [UInt8], at physical: UInt64) {
        for (i, byte) in bytes.enumerated() {
            let address = physical + UInt64(i)
            let word = h.kernel.platform.readPhysical(address & ~7)
            let shift = (address & 7) * 8
            h.kernel.platform.writePhysical(address & ~7, word & ~(0xff << shift) | UInt64(byte) << shift)
        }
    }

    func vcpu(_ h: KernelHarness) -> ExecutionContext { h.ec(h.rootPD, Self.vcpu) }
    func handlerEC(_ h: KernelHarness) -> ExecutionContext { h.ec(h.rootPD, Self.handler) }
    func word(_ h: KernelHarness, _ index: Int) -> UInt64 { h.kernel.utcbWord(handlerEC(h), index) }
    func set(_ h: KernelHarness, _ index: Int, _ value: UInt64) { h.kernel.setUTCBWord(handlerEC(h), index, value) }

    /// Runs the vCPU until its exit reaches the handler; returns the exit number the handler sees.
    func runToExit(_ h: KernelHarness, file: StaticString = #filePath, line: UInt = #line) -> UInt64? {
        let ec = vcpu(h)
        for _ in 0..<100 where ec.state == .ready {
            guard let sc = ec.boundSC else { break }
            h.kernel.runOnce(ec, on: sc)
        }
        guard ec.state == .calling, handlerEC(h).caller === ec else {
            XCTFail("the vCPU did not exit to its handler (state \(ec.state))", file: file, line: line)
            return nil
        }
        XCTAssertEqual(word(h, UTCBLayout.portalIDWord), word(h, GuestStateLayout.exitReason), "portal id = exit", file: file, line: line)
        return word(h, GuestStateLayout.exitReason)
    }

    /// Replies for the handler, writing back the groups of `mtd`.
    func reply(_ h: KernelHarness, mtd: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        set(h, GuestStateLayout.mtd, mtd)
        // The handler waits for its next call after replying.
        XCTAssertEqual(h.call(handlerEC(h), .reply), .blocked, file: file, line: line)
        XCTAssertEqual(vcpu(h).state, .ready, "the vCPU runs on", file: file, line: line)
    }

    /// Startup: the handler gets the reset state and replies with real mode at 0:0x1000.
    func start(_ h: KernelHarness, rip: UInt64 = 0x1000) {
        XCTAssertEqual(runToExit(h), VMExit.startup)
        XCTAssertEqual(word(h, GuestStateLayout.rip), 0xfff0, "x86 reset state")
        set(h, GuestStateLayout.rip, rip)
        set(h, GuestStateLayout.firstSegment + 3 * GuestState.cs, UInt64(0x9b) << 16)
        set(h, GuestStateLayout.firstSegment + 3 * GuestState.cs + 2, 0)
        reply(h, mtd: TransferDescriptor.instructionPointer | TransferDescriptor.segments)
    }

    func testExitsReachTheVMMsPortalsWithTheStateItsDescriptorAsks() throws {
        // Real mode at 0x1000: cpuid; mov al, 0x42; out 0x80, al; hlt
        let (h, _) = try makeVM(code: [0x0f, 0xa2, 0xb0, 0x42, 0xe6, 0x80, 0xf4])
        start(h)
        XCTAssertEqual(runToExit(h), VMExit.cpuid, "gpa \(hex(word(h, GuestStateLayout.guestPhysical))) rip \(hex(word(h, GuestStateLayout.rip)))")
        XCTAssertEqual(word(h, GuestStateLayout.rip), 0x1000)
        XCTAssertEqual(word(h, GuestStateLayout.instructionLength), 2)
        XCTAssertNotEqual(word(h, GuestStateLayout.qualificationFlags) & GuestStateLayout.lengthKnown, 0)
        // The VMM emulates CPUID: rax = 0x1234, past the instruction.
        set(h, GuestStateLayout.firstGeneralRegister, 0x1234)
        set(h, GuestStateLayout.rip, 0x1002)
        reply(h, mtd: TransferDescriptor.generalRegisters | TransferDescriptor.instructionPointer)

        XCTAssertEqual(runToExit(h), VMExit.io)
        let q = word(h, GuestStateLayout.qualification0)
        XCTAssertEqual(IOQualification.port(q), 0x80)
        XCTAssertEqual(IOQualification.size(q), 1)
        XCTAssertFalse(IOQualification.isIn(q))
        XCTAssertEqual(word(h, GuestStateLayout.qualification1), 0x1006, "next rip")
        XCTAssertEqual(word(h, GuestStateLayout.firstGeneralRegister) & 0xffff, 0x1242, "al = 0x42 over the emulated rax")
        set(h, GuestStateLayout.rip, 0x1006)
        reply(h, mtd: TransferDescriptor.instructionPointer)

        XCTAssertEqual(runToExit(h), VMExit.hlt)
        XCTAssertEqual(word(h, GuestStateLayout.rip), 0x1006)
        h.assertInvariants("after the exits")
    }

    func testAPortalThatAsksForLittleGetsLittle() throws {
        let (h, _) = try makeVM(mtd: 0, code: [0x0f, 0xa2, 0xf4])
        set(h, GuestStateLayout.rip, 0x5555)
        XCTAssertEqual(runToExit(h), VMExit.startup)
        XCTAssertEqual(word(h, GuestStateLayout.mtd), 0, "nothing but the exit reason and the MTD word")
        XCTAssertEqual(word(h, GuestStateLayout.rip), 0x5555, "rip was not written")
    }

    func testRevokedGuestMemoryIsANestedPageFaultBeforeTheRevokeReturns() throws {
        // Real mode: mov al, [0x2000]; hlt
        let (h, physical) = try makeVM(code: [0xa0, 0x00, 0x20, 0xf4])
        write(h, [0x77], at: physical + 0x2000)
        start(h)
        XCTAssertEqual(runToExit(h), VMExit.hlt)
        XCTAssertEqual(word(h, GuestStateLayout.firstGeneralRegister) & 0xff, 0x77)
        // Revoke the VM's page 2 (the data page; the tagged TLB caches it from the run above).
        let block = try XCTUnwrap(h.rootPD.space.covering(.memory, ((physical + AddressLayout.physicalWindow) >> 12)))
        XCTAssertEqual(h.status(h.rootEC, .revoke, CapabilityRange(kind: .memory, base: block.key + 2, permissions: 0).word, 0), .success)
        set(h, GuestStateLayout.rip, 0x1000)
        reply(h, mtd: TransferDescriptor.instructionPointer)
        XCTAssertEqual(runToExit(h), VMExit.nestedPageFault)
        XCTAssertEqual(word(h, GuestStateLayout.guestPhysical), 0x2000)
        XCTAssertEqual(word(h, GuestStateLayout.qualification0) & NestedFaultQualification.read, NestedFaultQualification.read)
        XCTAssertEqual(word(h, GuestStateLayout.rip), 0x1000, "at the faulting instruction")
        h.assertInvariants("after the revoke")
    }

    func testStatesTheHardwareWouldRefuseAreFailedEntriesNotFaults() throws {
        let (h, _) = try makeVM(code: [0xf4])
        XCTAssertEqual(runToExit(h), VMExit.startup)
        set(h, GuestStateLayout.cr0, 0x8000_0000)  // PG without PE
        reply(h, mtd: TransferDescriptor.controlRegisters)
        XCTAssertEqual(runToExit(h), VMExit.failedEntry)
        XCTAssertEqual(vcpu(h).vcpu?.lastFailure, "CR0.PG without CR0.PE")
        // A reply that injects a reserved vector is refused whole: the state stays, failedEntry again.
        set(h, GuestStateLayout.cr0, 0x10)
        set(h, GuestStateLayout.injection, 1 << 31 | InjectionType.exception.rawValue << 8 | 40)
        reply(h, mtd: TransferDescriptor.controlRegisters | TransferDescriptor.injection)
        XCTAssertEqual(runToExit(h), VMExit.failedEntry)
        XCTAssertEqual(vcpu(h).vcpu?.lastFailure, "reply refused: injected exception vector 40")
        XCTAssertEqual(vcpu(h).vcpu?.state.cr0, 0x8000_0000, "nothing of the refused reply was taken")
        // EFER.SVME is the host's.
        set(h, GuestStateLayout.cr0, 0x10)
        set(h, GuestStateLayout.efer, 1 << 12)
        reply(h, mtd: TransferDescriptor.controlRegisters)
        XCTAssertEqual(runToExit(h), VMExit.failedEntry)
        XCTAssertTrue(vcpu(h).vcpu?.lastFailure?.contains("EFER") ?? false)
        h.assertInvariants()
    }

    func testAnExitWithoutAPortalStopsTheVCPUWithALine() throws {
        let (h, _) = try makeVM(code: [0x0f, 0xa2])
        XCTAssertEqual(h.status(h.rootEC, .revoke, CapabilityRange(kind: .object, base: Self.eventBase + VMExit.cpuid, permissions: 0).word, RevokeFlags.includeSelf), .success)
        start(h)
        let ec = vcpu(h)
        if let sc = ec.boundSC { h.kernel.runOnce(ec, on: sc) }
        XCTAssertEqual(ec.state, .stopped)
        XCTAssertTrue(h.machine.consoleText.contains("stopped: exit 32"), h.machine.consoleText)
    }

    func testInjectedInterruptIsDeliveredThroughTheGuestIVTAndRecallIsRemembered() throws {
        // IVT entry 0x20 -> 0:0x1100 (hlt); at 0x1000: sti; nop; jmp $
        let (h, physical) = try makeVM(code: [0xfb, 0x90, 0xeb, 0xfe])
        write(h, [0x00, 0x11, 0x00, 0x00], at: physical + 0x20 * 4)
        write(h, [0xf4], at: physical + 0x1100)
        start(h)
        // One slice: the guest turns interrupts on and spins (an interrupt is injected only when it can take one).
        let ec = vcpu(h)
        if let sc = ec.boundSC { h.kernel.runOnce(ec, on: sc) }
        XCTAssertEqual(ec.state, .ready, "the guest spins without exits")
        // A recall (the VMM wants to inject) ends its slice with exit `recall`.
        XCTAssertEqual(h.status(h.rootEC, .ctrlEC, Self.vcpu, 0), .success)
        XCTAssertEqual(runToExit(h), VMExit.recall)
        XCTAssertNotEqual(word(h, GuestStateLayout.rflags) & 1 << 9, 0, "interrupts are on")
        set(h, GuestStateLayout.injection, 1 << 31 | InjectionType.externalInterrupt.rawValue << 8 | 0x20)
        reply(h, mtd: TransferDescriptor.injection)
        XCTAssertEqual(runToExit(h), VMExit.hlt)
        XCTAssertEqual(word(h, GuestStateLayout.rip), 0x1100, "the handler ran")
        h.assertInvariants()
    }

    func testVMRightsAndBadArguments() throws {
        let h = try KernelHarness(nestedPaging: nestedPaging)
        // A PD made without the VM right cannot make VMs (the right is passed on only as far as the creator has it).
        XCTAssertEqual(h.status(h.rootEC, .createPD, 400, 64, Permissions.all & ~Permissions.pdVM), .success)
        XCTAssertEqual(h.status(h.rootEC, .createEC, 401, 400, 0x90_0000_0000, 0x90_1000_0000, 0x80_0000_0000, ECFlags.global), .success)
        let childEC = h.ec(h.rootPD, 401)
        XCTAssertEqual(h.status(childEC, .createPD, 10, 8, Permissions.all, PDFlags.vm), .insufficientRights, "no pdVM own right")
        XCTAssertEqual(h.status(h.rootEC, .createPD, 300, 8, Permissions.all, 2), .badRange, "unknown flag")
        XCTAssertEqual(h.status(h.rootEC, .createPD, 300, 8, Permissions.all, PDFlags.vm), .success)
        // A VM PD runs vCPUs only, and a vCPU lives only in a VM PD.
        XCTAssertEqual(h.status(h.rootEC, .createEC, 310, 300, 0x90_0000_0000, 0, 0, ECFlags.global), .badState)
        XCTAssertEqual(h.status(h.rootEC, .createEC, 310, 400, 0, 0, 0, ECFlags.global | ECFlags.vcpu), .badState)
        XCTAssertEqual(h.status(h.rootEC, .createEC, 310, 300, 0, 0, 0, ECFlags.vcpu), .badState, "a vCPU is global")
        XCTAssertEqual(h.status(h.rootEC, .createEC, 312, RootSelectors.ownPD, 0x90_0003_0000, 0x90_1000_0000, 0, 0), .success)
        XCTAssertEqual(h.status(h.rootEC, .createPT, 311, 312, 0, 0, TransferDescriptor.all + 1), .badRange, "MTD bits that do not exist")
        // Guest memory keys start at 0 and end at 2^36 pages; user-space keys do not apply to a VM PD.
        XCTAssertEqual(h.status(h.rootEC, .delegate, 300, CapabilityRange(kind: .memory, base: h.windowPage(0), permissions: 7).word, 0), .success)
        XCTAssertEqual(h.status(h.rootEC, .delegate, 300, CapabilityRange(kind: .memory, base: h.windowPage(1), permissions: 7).word, 1 << 36), .badRange)
        h.assertInvariants()
        // Destroying the VM PD takes its vCPUs; quota and frames return.
        let frames = h.kernel.frames.allocatedCount
        XCTAssertEqual(h.status(h.rootEC, .createEC, 310, 300, 0, 0, 0, ECFlags.global | ECFlags.vcpu), .success)
        XCTAssertGreaterThan(h.kernel.frames.allocatedCount, frames)
        XCTAssertEqual(h.status(h.rootEC, .revoke, CapabilityRange(kind: .object, base: 300, permissions: 0).word, RevokeFlags.includeSelf), .success)
        XCTAssertNil(h.object(h.rootPD, 310), "the vCPU went with its VM")
        h.assertInvariants()
    }

    /// Random bytes as guest code (real mode at 0x1000): each run ends in an exit the handler sees (or
    /// a stopped vCPU), the kernel never faults, and its invariants hold. The host survives; nothing else is claimed.
    func testRandomBytesAsAGuestNeverHurtTheHost() throws {
        var seed: UInt64 = 0x5eed
        func next() -> UInt64 {
            seed &+= 0x9e37_79b9_7f4a_7c15
            var z = seed
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            return z ^ (z >> 27)
        }
        var totalExits = 0
        for round in 0..<6 {
            // All of the real-mode segment the guest runs in (0x1000 on), so every path it takes runs random bytes.
            let code = (0..<0x10000).map { _ in UInt8(truncatingIfNeeded: next()) }
            let (h, _) = try makeVM(code: code)
            start(h)
            var exits = 0
            for _ in 0..<40 {
                let ec = vcpu(h)
                guard ec.state == .ready, let sc = ec.boundSC else { break }
                h.kernel.runOnce(ec, on: sc)
                guard ec.state == .calling else { continue }
                exits += 1
                // The VMM's answer to anything: skip one byte (or the known length) and go on.
                let length = word(h, GuestStateLayout.qualificationFlags) & GuestStateLayout.lengthKnown != 0
                    ? word(h, GuestStateLayout.instructionLength) : 1
                set(h, GuestStateLayout.rip, word(h, GuestStateLayout.rip) &+ length)
                set(h, GuestStateLayout.mtd, TransferDescriptor.instructionPointer)
                XCTAssertEqual(h.call(handlerEC(h), .reply), .blocked)
            }
            XCTAssertNil(h.machine.kernelFault, "round \(round)")
            XCTAssertTrue([.ready, .calling, .stopped].contains(vcpu(h).state), "round \(round)")
            h.assertInvariants("round \(round)")
            totalExits += exits
        }
        print("random guests: \(totalExits) exits in 6 rounds")
        XCTAssertGreaterThan(totalExits, 0, "random code makes exits")
    }

    /// Benchmark (printed, not asserted beyond correctness): a CPUID exit round trip guest -> kernel -> handler ->
    /// reply -> guest in simulator counts: kernel RAM words touched and hypercalls per round trip, with a portal that
    /// transfers only general registers and rip (what a CPUID handler needs).
    func testCPUIDExitRoundTripCost() throws {
        // Real mode: mov cx, 200; again: cpuid; loop again; hlt
        let (h, _) = try makeVM(mtd: TransferDescriptor.generalRegisters | TransferDescriptor.instructionPointer,
                                code: [0xb9, 0xc8, 0x00, 0x0f, 0xa2, 0xe2, 0xfc, 0xf4])
        start(h)
        XCTAssertEqual(runToExit(h), VMExit.cpuid)
        let counters = h.machine.memory.counters
        let words = counters.wordReads + counters.wordWrites, calls = h.kernel.statistics.hypercalls
        let steps = h.kernel.statistics.exits
        var trips: UInt64 = 0
        while word(h, GuestStateLayout.exitReason) == VMExit.cpuid {
            set(h, GuestStateLayout.rip, word(h, GuestStateLayout.rip) + 2)
            reply(h, mtd: TransferDescriptor.instructionPointer)
            trips += 1
            guard runToExit(h) != nil else { break }
        }
        XCTAssertEqual(trips, 200)
        XCTAssertEqual(word(h, GuestStateLayout.exitReason), VMExit.hlt)
        let perTrip = Double(counters.wordReads + counters.wordWrites - words) / Double(trips)
        print("benchmark: cpuid exit round trip (simulator): \(String(format: "%.0f", perTrip)) kernel RAM words, "
              + "\(Double(h.kernel.statistics.hypercalls - calls) / Double(trips)) hypercalls, "
              + "\(Double(h.kernel.statistics.exits - steps) / Double(trips)) kernel exits per round trip")
        h.assertInvariants()
    }
}
