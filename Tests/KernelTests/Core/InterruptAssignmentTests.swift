import KernelABI
import Sim
import XCTest
@testable import Kernel

final class InterruptAssignmentTests: XCTestCase {
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

    /// Takes what the machine would interrupt user code with now and lets the kernel handle it.
    private func takeInterrupt(_ h: KernelHarness) -> UInt64? {
        guard case .interrupt(let irq)? = h.machine.takePendingExit() else { return nil }
        h.kernel.handle(.interrupt(irq: irq), from: nil)
        return irq
    }

    /// A level line (10, level/active-high on q35) stays closed from its interrupt until the driver waits again
    /// with nothing left to take; a line still asserted then interrupts again at once, so nothing is lost.
    func testALevelLineStaysClosedUntilItsOwnerWaitsAgain() throws {
        let h = try KernelHarness()
        let root = h.rootEC, irq: UInt64 = 10, sel = RootSelectors.interruptBase + 10
        h.machine.interrupts.setTrigger(irq, .level)
        let sm = h.kernel.interruptSemaphores[Int(irq)]
        XCTAssertEqual(h.status(root, .assignInt, sel, irq), .success)
        XCTAssertEqual(h.call(root, .ctrlSM, sel, SemaphoreOp.down.rawValue), .blocked)

        h.machine.interrupts.setLevel(irq, asserted: true)
        XCTAssertEqual(takeInterrupt(h), irq)
        XCTAssertEqual(root.state, .ready, "the interrupt woke the driver")
        XCTAssertTrue(sm.interruptHeld)
        XCTAssertNil(takeInterrupt(h), "still asserted, but closed until the driver waits again")
        XCTAssertEqual(h.kernel.invariantViolations(), [])

        // The device still asserts when the driver waits again: the line opens and interrupts at once.
        XCTAssertEqual(h.call(root, .ctrlSM, sel, SemaphoreOp.down.rawValue), .blocked)
        XCTAssertFalse(sm.interruptHeld)
        XCTAssertEqual(takeInterrupt(h), irq, "not lost: re-delivered when the driver waits again")
        XCTAssertEqual(root.state, .ready)
        XCTAssertNil(takeInterrupt(h))

        // Interrupts while the driver is busy: a down that takes the count leaves the line closed (the driver has
        // not handled that interrupt yet); the next down, with nothing to take, opens it.
        XCTAssertEqual(h.call(root, .ctrlSM, sel, SemaphoreOp.up.rawValue), .returned(.success, 0, 0))
        XCTAssertEqual(h.call(root, .ctrlSM, sel, SemaphoreOp.down.rawValue), .returned(.success, 0, 0))
        XCTAssertTrue(sm.interruptHeld, "a down that took a count does not open the line")
        XCTAssertNil(takeInterrupt(h))

        // The driver quiets the device, then waits: the line opens and stays quiet.
        h.machine.interrupts.setLevel(irq, asserted: false)
        XCTAssertEqual(h.call(root, .ctrlSM, sel, SemaphoreOp.down.rawValue), .blocked)
        XCTAssertFalse(sm.interruptHeld)
        XCTAssertFalse(h.machine.interrupts.isInService(irq))
        XCTAssertFalse(h.machine.interrupts.isMasked(irq))
        XCTAssertNil(takeInterrupt(h))
        XCTAssertEqual(h.kernel.invariantViolations(), [])
    }

    /// A timed down that times out at once still counts as waiting again: it opens a held level line.
    func testATimedDownThatTimesOutOpensAHeldLevelLine() throws {
        let h = try KernelHarness()
        let root = h.rootEC, irq: UInt64 = 11, sel = RootSelectors.interruptBase + 11
        h.machine.interrupts.setTrigger(irq, .level)
        let sm = h.kernel.interruptSemaphores[Int(irq)]
        XCTAssertEqual(h.status(root, .assignInt, sel, irq), .success)
        h.machine.interrupts.setLevel(irq, asserted: true)
        XCTAssertEqual(takeInterrupt(h), irq)
        XCTAssertEqual(sm.count, 1)
        XCTAssertEqual(h.call(root, .ctrlSM, sel, SemaphoreOp.down.rawValue), .returned(.success, 0, 0))
        h.machine.interrupts.setLevel(irq, asserted: false)
        XCTAssertTrue(sm.interruptHeld)
        XCTAssertEqual(h.call(root, .ctrlSM, sel, SemaphoreOp.downTimed.rawValue, 0), .returned(.timeout, 0, 0))
        XCTAssertFalse(sm.interruptHeld)
        XCTAssertFalse(h.machine.interrupts.isInService(irq))
    }

    /// An edge line keeps its behaviour: acknowledged as soon as the semaphore is upped.
    func testAnEdgeLineIsAcknowledgedAtOnce() throws {
        let h = try KernelHarness()
        let root = h.rootEC, irq: UInt64 = 4, sel = RootSelectors.interruptBase + 4
        let sm = h.kernel.interruptSemaphores[Int(irq)]
        XCTAssertEqual(h.machine.interrupts.trigger(irq), .edge)
        XCTAssertEqual(h.status(root, .assignInt, sel, irq), .success)
        h.machine.raiseInterrupt(irq)
        XCTAssertEqual(takeInterrupt(h), irq)
        XCTAssertFalse(sm.interruptHeld)
        XCTAssertFalse(h.machine.interrupts.isInService(irq))
        h.machine.raiseInterrupt(irq)
        XCTAssertEqual(takeInterrupt(h), irq, "the next edge comes without any down")
        XCTAssertEqual(sm.count, 2)
    }

    /// Release: the line is masked, what its last owner left is dropped (count, a held level line, waiters), and
    /// it can be assigned again; assigning an assigned line is refused, as is a line the machine does not have.
    func testAReleasedLineCanBeAssignedAgain() throws {
        let h = try KernelHarness()
        let root = h.rootEC, irq: UInt64 = 9, sel = RootSelectors.interruptBase + 9
        let release = AssignFlags.release
        h.machine.interrupts.setTrigger(irq, .level)
        let sm = h.kernel.interruptSemaphores[Int(irq)]
        XCTAssertEqual(h.status(root, .assignInt, sel, irq, 2), .badRange, "unknown flag")
        XCTAssertEqual(h.status(root, .assignInt, sel, irq), .success)
        XCTAssertEqual(h.status(root, .assignInt, sel, irq), .badState, "assigned already: release it first")
        h.machine.interrupts.setLevel(irq, asserted: true)
        XCTAssertEqual(takeInterrupt(h), irq)
        XCTAssertTrue(sm.interruptHeld)
        XCTAssertEqual(sm.count, 1)

        // A waiter (the dying driver's) returns aborted.
        let (_, child) = h.makeChild(at: 310)
        XCTAssertEqual(h.status(root, .delegate, 310, CapabilityRange(kind: .object, base: sel, permissions: Permissions.smDown).word, 1), .success)
        XCTAssertEqual(h.call(root, .ctrlSM, sel, SemaphoreOp.down.rawValue), .returned(.success, 0, 0))
        XCTAssertEqual(h.status(child, .assignInt, 1, irq, release), .insufficientRights, "only the smAssign holder releases")
        XCTAssertEqual(h.call(child, .ctrlSM, 1, SemaphoreOp.down.rawValue), .blocked)

        XCTAssertEqual(h.status(root, .assignInt, sel, irq, release), .success)
        XCTAssertEqual(child.state, .ready)
        XCTAssertEqual(child.context.rax, Status.aborted.rawValue)
        XCTAssertFalse(sm.interruptAssigned)
        XCTAssertFalse(sm.interruptHeld)
        XCTAssertEqual(sm.count, 0)
        XCTAssertTrue(h.machine.interrupts.isMasked(irq))
        XCTAssertNil(takeInterrupt(h), "masked while released, though still asserted")
        XCTAssertEqual(h.status(root, .assignInt, sel, irq, release), .success, "releasing twice is harmless")
        XCTAssertEqual(h.kernel.invariantViolations(), [])

        // Assigned again (the restarted driver): the still-asserted line interrupts at once.
        XCTAssertEqual(h.status(root, .assignInt, sel, irq), .success)
        XCTAssertEqual(takeInterrupt(h), irq)
        XCTAssertEqual(sm.count, 1)

        // A line the machine does not have (IRQ 2 on q35: IRQ 0 took its pin).
        h.machine.interrupts.setTrigger(2, nil)
        XCTAssertEqual(h.status(root, .assignInt, RootSelectors.interruptBase + 2, 2), .badRange)
    }
}
