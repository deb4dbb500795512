import KernelABI
import Sim
import XCTest
@testable import Kernel

final class SemaphoreControlTests: XCTestCase {
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
}
