import KernelABI
import Sim
import XCTest
@testable import Kernel

final class ControlTests: XCTestCase {
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
