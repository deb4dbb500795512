import KernelABI
import Sim
import XCTest
@testable import Kernel

final class ObjectCreationTests: XCTestCase {
    func testCreatePDChargesQuotaAndGivesAnAddressSpaceWithTheKernelSlot() throws {
        let h = try KernelHarness()
        let before = h.rootPD.quotaUsed
        XCTAssertEqual(h.status(h.rootEC, .createPD, 300, 10, Permissions.all), .success)
        let child = h.pd(h.rootPD, 300)
        XCTAssertEqual(h.rootPD.quotaUsed, before + 10)
        XCTAssertEqual(child.quotaLimit, 10)
        XCTAssertEqual(child.quotaUsed, 1, "the PML4")
        XCTAssertEqual(h.kernel.platform.readPhysical(child.pageTableRoot),
                       h.kernel.platform.readPhysical(h.rootPD.pageTableRoot), "shared kernel slot 0")
        h.assertInvariants()
    }

    func testCreatePDErrors() throws {
        let h = try KernelHarness()
        XCTAssertEqual(h.status(h.rootEC, .createPD, RootSelectors.ownPD, 10, Permissions.all), .badSelector)
        XCTAssertEqual(h.status(h.rootEC, .createPD, CapabilitySpace.selectorLimit, 10, Permissions.all), .badSelector)
        XCTAssertEqual(h.status(h.rootEC, .createPD, 300, 0, Permissions.all), .badRange, "quota must pay the PML4")
        XCTAssertEqual(h.status(h.rootEC, .createPD, 300, 10, 0), .badRange)
        XCTAssertEqual(h.status(h.rootEC, .createPD, 300, 10, 0x20), .badRange)
        XCTAssertEqual(h.status(h.rootEC, .createPD, 300, UInt64.max, Permissions.all), .outOfMemory)
        // A PD created without pdCreate cannot create anything.
        XCTAssertEqual(h.status(h.rootEC, .createPD, 300, 10, Permissions.pdDelegate), .success)
        XCTAssertEqual(h.status(h.rootEC, .createEC, 301, 300, 0x90_0000_0000, 0, 0, ECFlags.make(global: true, eventBase: 0)),
                       .insufficientRights, "root's capability lacks pdCreate")
        // Quota 5: the PML4 and the three tables for the UTCB mapping leave one page.
        let (child, ec) = h.makeChild(at: 400, quota: 5)
        XCTAssertEqual(child.quotaUsed, 4)
        XCTAssertEqual(h.status(ec, .createPD, 10, 1, Permissions.all), .success)
        XCTAssertEqual(h.status(ec, .createPD, 11, 1, Permissions.all), .outOfMemory)
        XCTAssertEqual(child.quotaUsed, child.quotaLimit)
        h.assertInvariants()
    }

    func testCreateECErrors() throws {
        let h = try KernelHarness()
        let root = h.rootEC
        let flags = ECFlags.make(global: true, eventBase: 0)
        XCTAssertEqual(h.status(root, .createEC, 300, 999, 0x90_0000_0000, 0, 0, flags), .badSelector)
        XCTAssertEqual(h.status(root, .createEC, 300, RootSelectors.ownEC, 0x90_0000_0000, 0, 0, flags), .wrongType)
        XCTAssertEqual(h.status(root, .createEC, 300, RootSelectors.ownPD, 0x90_0000_0100, 0, 0, flags), .badRange, "misaligned UTCB")
        XCTAssertEqual(h.status(root, .createEC, 300, RootSelectors.ownPD, 0x1000, 0, 0, flags), .badRange, "kernel half")
        XCTAssertEqual(h.status(root, .createEC, 300, RootSelectors.ownPD, AddressLayout.rootUTCB, 0, 0, flags), .badRange, "occupied")
        XCTAssertEqual(h.status(root, .createEC, 300, RootSelectors.ownPD, AddressLayout.rootStackTop - 4096, 0, 0, flags), .badRange, "memory there")
        XCTAssertEqual(h.status(root, .createEC, 300, RootSelectors.ownPD, 0x90_0000_0000, 0, 0, 0x4), .badRange, "reserved flag bits")
        XCTAssertEqual(h.status(root, .createEC, 300, RootSelectors.ownPD, 0x90_0000_0000, 0, 0, ECFlags.global | ECFlags.vcpu), .badState, "a vCPU outside a VM PD")
        XCTAssertEqual(h.status(root, .createEC, 300, RootSelectors.ownPD, 0x90_0000_0000, 0, 0, CapabilitySpace.selectorLimit << 8), .badRange)
        XCTAssertEqual(h.status(root, .createEC, 300, RootSelectors.ownPD, 0x90_0000_0000, 0x1234, 0x5678, flags), .success)
        let ec = h.ec(h.rootPD, 300)
        XCTAssertEqual(ec.context.rsp, 0x1234)
        XCTAssertEqual(ec.context.rip, 0x5678)
        let utcb = try XCTUnwrap(h.translate(h.rootPD, 0x90_0000_0000, .write))
        XCTAssertEqual(utcb.physical, ec.utcbFrame)
        XCTAssertFalse(utcb.executable)
        h.assertInvariants()
    }

    func testCreateSCBindsAndChecksPriorityBudgetAndState() throws {
        let h = try KernelHarness()
        let (_, ec) = h.makeChild(at: 300)
        let root = h.rootEC
        XCTAssertEqual(h.status(root, .createSC, 310, 300, 1, 10), .wrongType)
        XCTAssertEqual(h.status(root, .createSC, 310, 301, Scheduler.maxPriority + 1, 10), .badRange)
        XCTAssertEqual(h.status(root, .createSC, 310, 301, 1, 0), .badRange)
        XCTAssertEqual(h.status(root, .createSC, 310, 301, 1, Kernel<SimPlatform>.maxBudget + 1), .badRange)
        XCTAssertEqual(h.status(root, .createSC, 310, 301, 5, 10), .success)
        XCTAssertTrue(ec.boundSC != nil && ec.currentSC === ec.boundSC)
        XCTAssertEqual(h.status(root, .createSC, 311, 301, 5, 10), .badState, "already has one")
        // A child may not create an SC above its own priority.
        XCTAssertEqual(h.status(root, .delegate, 300, CapabilityRange(kind: .object, base: 301, permissions: Permissions.all).word, 20), .success)
        XCTAssertEqual(h.status(root, .delegate, 300, CapabilityRange(kind: .object, base: 300, permissions: Permissions.all).word, 22), .success)
        XCTAssertEqual(h.status(ec, .createEC, 23, 22, 0x91_0000_0000, 0, 0, ECFlags.global), .success)
        XCTAssertEqual(h.status(ec, .createSC, 24, 23, 6, 10), .badRange, "above the caller's priority 5")
        XCTAssertEqual(h.status(ec, .createSC, 24, 23, 5, 10), .success)
        // Local ECs cannot have an SC.
        XCTAssertEqual(h.status(ec, .createEC, 25, 22, 0x92_0000_0000, 0, 0, 0), .success)
        XCTAssertEqual(h.status(ec, .createSC, 26, 25, 1, 10), .badState)
        h.assertInvariants()
    }

    func testCreatePTAndSM() throws {
        let h = try KernelHarness()
        let root = h.rootEC
        XCTAssertEqual(h.status(root, .createEC, 300, RootSelectors.ownPD, 0x90_0000_0000, 0, 0, 0), .success)
        XCTAssertEqual(h.status(root, .createPT, 301, RootSelectors.ownEC, 0x1, 7), .badState, "global EC")
        XCTAssertEqual(h.status(root, .createPT, 301, RootSelectors.ownPD, 0x1, 7), .wrongType)
        XCTAssertEqual(h.status(root, .createPT, 301, 300, 0x1, 7), .success)
        guard case .pt(let pt)? = h.object(h.rootPD, 301) else { return XCTFail("no portal") }
        XCTAssertEqual(pt.portalID, 7)
        XCTAssertEqual(h.status(root, .createSM, 302, Semaphore.maxCount + 1), .badRange)
        XCTAssertEqual(h.status(root, .createSM, 302, 3), .success)
        XCTAssertEqual(h.status(root, .createSM, 302, 3), .badSelector, "occupied")
        guard case .sm(let sm)? = h.object(h.rootPD, 302) else { return XCTFail("no semaphore") }
        XCTAssertEqual(sm.count, 3)
        h.assertInvariants()
    }

    func testBadHypercallNumber() throws {
        let h = try KernelHarness()
        XCTAssertEqual(h.raw(h.rootEC, UInt64(Hypercall.allCases.count), []), .returned(.badHypercall, 0, 0))
        XCTAssertEqual(h.raw(h.rootEC, UInt64.max, []), .returned(.badHypercall, 0, 0))
    }
}
