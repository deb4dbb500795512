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
}
