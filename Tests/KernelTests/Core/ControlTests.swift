import KernelABI
import Sim
import XCTest
@testable import Kernel

final class ControlTests: XCTestCase {
    func testSemaphoreUpDownAndTimeout() throws {
        let h = try KernelHarness()
        let root = h.rootEC
        let (_, child) = h.makeChild(at: 310)
        XCTAssertEqual(h.status(root, .createSM, 300, 1), .success)
        XCTAssertEqual(h.status(root, .delegate, 310, CapabilityRange(kind: .object, base: 300, permissions: Permissions.smUp).word, 4), .success)
        XCTAssertEqual(h.status(root, .ctrlSM, 300, SemaphoreOp.down.rawValue), .success)
        XCTAssertEqual(h.call(root, .ctrlSM, 300, SemaphoreOp.down.rawValue), .blocked)
        XCTAssertNil(h.kernel.pickNext(), "the only SC is blocked (the child has none)")
        h.assertInvariants("blocked")
        // Another EC ups it.
        XCTAssertEqual(h.status(child, .ctrlSM, 4, SemaphoreOp.up.rawValue), .success)
        XCTAssertEqual(root.state, .ready)
        XCTAssertEqual(root.context.rax, Status.success.rawValue)
        XCTAssertEqual(h.status(child, .ctrlSM, 4, SemaphoreOp.down.rawValue), .insufficientRights)
        XCTAssertEqual(h.status(child, .ctrlSM, 4, 3), .badRange)
        XCTAssertEqual(h.status(child, .ctrlSM, 5, 0), .badSelector)
        // Timed down: in the past times out at once; in the future blocks until the deadline.
        XCTAssertEqual(h.status(root, .ctrlSM, 300, SemaphoreOp.downTimed.rawValue, h.machine.now), .timeout)
        XCTAssertEqual(h.call(root, .ctrlSM, 300, SemaphoreOp.downTimed.rawValue, h.machine.now + 50), .blocked)
        XCTAssertTrue(h.kernel.canStillWake)
        h.machine.advance(by: 60)
        h.kernel.wakeExpiredTimeouts()
        XCTAssertEqual(root.context.rax, Status.timeout.rawValue)
        XCTAssertTrue(h.kernel.timeouts.isEmpty)
        h.assertInvariants()
    }

    func testDestroyingASemaphoreAbortsWaiters() throws {
        let h = try KernelHarness()
        let (child, ec) = h.makeChild(at: 300)
        _ = child
        XCTAssertEqual(h.status(h.rootEC, .createSM, 310, 0), .success)
        XCTAssertEqual(h.status(h.rootEC, .delegate, 300, CapabilityRange(kind: .object, base: 310, permissions: Permissions.smDown).word, 2), .success)
        XCTAssertEqual(h.call(ec, .ctrlSM, 2, SemaphoreOp.down.rawValue), .blocked)
        XCTAssertEqual(h.status(h.rootEC, .revoke, CapabilityRange(kind: .object, base: 310, permissions: 0).word, RevokeFlags.includeSelf), .success)
        XCTAssertEqual(ec.context.rax, Status.aborted.rawValue)
        XCTAssertNil(ec.pd.space.objects[2], "the derived capability went with it")
        h.assertInvariants()
    }

    func testInterruptsArriveAsSemaphoreUpsOnlyAfterAssignment() throws {
        let h = try KernelHarness()
        let root = h.rootEC
        let sel = RootSelectors.interruptBase + 4
        guard case .sm(let sm)? = h.object(h.rootPD, sel) else { return XCTFail("no irq 4 semaphore") }
        h.kernel.handle(.interrupt(irq: 4), from: nil)
        XCTAssertEqual(sm.count, 0, "not assigned yet")
        XCTAssertEqual(h.status(root, .assignInt, sel, 5), .badRange)
        XCTAssertEqual(h.status(root, .createSM, 300, 0), .success)
        XCTAssertEqual(h.status(root, .assignInt, 300, 4), .badState, "not an interrupt semaphore")
        XCTAssertEqual(h.status(root, .assignInt, sel, 4), .success)
        XCTAssertFalse(h.machine.interrupts.isMasked(4))
        XCTAssertEqual(h.call(root, .ctrlSM, sel, SemaphoreOp.down.rawValue), .blocked)
        XCTAssertTrue(h.kernel.canStillWake)
        h.kernel.handle(.interrupt(irq: 4), from: nil)
        XCTAssertEqual(root.state, .ready)
        h.kernel.handle(.interrupt(irq: 4), from: nil)
        XCTAssertEqual(sm.count, 1)
        let (_, child) = h.makeChild(at: 310)
        XCTAssertEqual(h.status(root, .delegate, 310, CapabilityRange(kind: .object, base: sel, permissions: Permissions.smDown).word, 1), .success)
        XCTAssertEqual(h.status(child, .assignInt, 1, 4), .insufficientRights)
    }

    func testConsoleWriteNeedsTheRight() throws {
        let h = try KernelHarness()
        for (i, byte) in "hi!".utf8.enumerated() {
            let word = h.kernel.utcbWord(h.rootEC, UTCBLayout.firstDataWord)
            h.kernel.setUTCBWord(h.rootEC, UTCBLayout.firstDataWord, word | UInt64(byte) << (8 * UInt64(i)))
        }
        XCTAssertEqual(h.status(h.rootEC, .consoleWrite, 3), .success)
        XCTAssertTrue(h.system.consoleText.hasSuffix("hi!"))
        XCTAssertEqual(h.status(h.rootEC, .consoleWrite, UInt64(UTCBLayout.maxDataWords * 8 + 1)), .badRange)
        XCTAssertEqual(h.status(h.rootEC, .createPD, 300, 64, Permissions.pdCreate), .success)
        XCTAssertEqual(h.status(h.rootEC, .createEC, 301, 300, 0x90_0000_0000, 0, 0, ECFlags.global), .success)
        XCTAssertEqual(h.status(h.ec(h.rootPD, 301), .consoleWrite, 1), .insufficientRights)
    }

    func testControlECSCPT() throws {
        let h = try KernelHarness()
        let root = h.rootEC
        let sc = try XCTUnwrap(root.boundSC)
        h.kernel.bill(sc, ticks: 7)
        XCTAssertEqual(h.call(root, .ctrlSC, RootSelectors.ownSC, 0), .returned(.success, 7, 0))
        XCTAssertEqual(h.status(root, .ctrlSC, RootSelectors.ownSC, 1), .badRange)
        XCTAssertEqual(h.status(root, .ctrlSC, RootSelectors.ownEC, 0), .wrongType)
        XCTAssertEqual(h.status(root, .createEC, 300, RootSelectors.ownPD, 0x90_0000_0000, 0, 0, 0), .success)
        XCTAssertEqual(h.status(root, .createPT, 301, 300, 0, 1), .success)
        XCTAssertEqual(h.status(root, .ctrlPT, 301, 55), .success)
        guard case .pt(let pt)? = h.object(h.rootPD, 301) else { return XCTFail("no portal") }
        XCTAssertEqual(pt.portalID, 55)
        XCTAssertEqual(h.status(root, .ctrlEC, RootSelectors.ownEC, 1), .badRange)
        XCTAssertEqual(h.status(root, .ctrlEC, RootSelectors.ownEC, 0), .success)
        XCTAssertTrue(root.recallPending)
        // With a recall portal the next run becomes an event call.
        XCTAssertEqual(h.status(root, .delegate, RootSelectors.ownPD, CapabilityRange(kind: .object, base: 301, permissions: Permissions.ptCall).word, RootSelectors.rootEventBase + Event.recall), .success)
        h.kernel.runOnce(root, on: sc)
        XCTAssertEqual(root.state, .calling)
        XCTAssertEqual(h.data(h.ec(h.rootPD, 300), FaultMessage.vector), Event.recall)
    }

    func testPrioritiesAndRoundRobinWithBudgets() throws {
        let h = try KernelHarness()
        let root = h.rootEC
        let (_, a) = h.makeChild(at: 300, utcb: 0x90_0000_0000)
        let (_, b) = h.makeChild(at: 310, utcb: 0x90_0000_0000)
        let (_, c) = h.makeChild(at: 320, utcb: 0x90_0000_0000)
        XCTAssertEqual(h.status(root, .createSC, 302, 301, 5, 10), .success)
        XCTAssertEqual(h.status(root, .createSC, 312, 311, 5, 10), .success)
        XCTAssertEqual(h.status(root, .createSC, 322, 321, 3, 10), .success)
        XCTAssertTrue(h.kernel.pickNext()!.1 === root, "root runs at the top priority")
        XCTAssertEqual(h.status(root, .createSM, 330, 0), .success)
        XCTAssertEqual(h.call(root, .ctrlSM, 330, SemaphoreOp.down.rawValue), .blocked)
        XCTAssertTrue(h.kernel.pickNext()!.1 === a)
        h.kernel.bill(a.boundSC!, ticks: 4)
        XCTAssertTrue(h.kernel.pickNext()!.1 === a, "budget left: a keeps running")
        h.kernel.bill(a.boundSC!, ticks: 6)
        XCTAssertTrue(h.kernel.pickNext()!.1 === b, "a's budget is used up: round robin")
        XCTAssertEqual(a.boundSC!.remaining, 10, "refilled")
        h.kernel.bill(b.boundSC!, ticks: 10)
        XCTAssertTrue(h.kernel.pickNext()!.1 === a)
        XCTAssertEqual(h.call(a, .ctrlSM, 330, SemaphoreOp.down.rawValue), .returned(.badSelector, 0, 0))
        a.state = .stopped
        b.state = .stopped
        XCTAssertTrue(h.kernel.pickNext()!.1 === c, "lower priority runs only when nothing above can")
    }
}
