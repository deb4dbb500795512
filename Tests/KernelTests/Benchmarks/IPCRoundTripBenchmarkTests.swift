import KernelABI
import Sim
import XCTest
@testable import Kernel

/// One IPC call + reply between two PDs, in simulator counts. The test plays both ECs (it hands the kernel the
/// hypercall exits), so the figures are the kernel's own work: exits handled, hypercalls, and the physical words
/// and frames the simulated RAM saw. Prints the figures; asserts only that the round trip completed and counted.
final class IPCRoundTripBenchmarkTests: XCTestCase {
    func testCallReplyRoundTripBetweenTwoPDs() throws {
        let h = try KernelHarness()
        XCTAssertEqual(h.status(h.rootEC, .createPD, 300, 64, Permissions.all), .success)
        XCTAssertEqual(h.status(h.rootEC, .createEC, 301, 300, 0x90_0000_0000, 0x90_2000_0000, 0, 0), .success)
        XCTAssertEqual(h.status(h.rootEC, .createPT, 302, 301, 0x80_0000_0040, 1), .success)
        let handler = h.ec(h.rootPD, 301)
        let before = h.kernel.statistics
        let touchedBefore = h.machine.memory.touchedPageCount
        let counters = h.machine.counters
        // Only the kernel's handling of the two hypercalls is counted (the test's own UTCB accesses are not).
        var kernelAccesses: UInt64 = 0, kernelWalks: UInt64 = 0
        func kernelWork(_ body: () -> Void) {
            let accesses = counters.physicalAccesses, walks = counters.pageTableWalks
            body()
            kernelAccesses += counters.physicalAccesses - accesses
            kernelWalks += counters.pageTableWalks - walks
        }
        let rounds = 100
        for i in 0..<rounds {
            h.setMessage(h.rootEC, untyped: [UInt64(i), 2, 3, 4])
            kernelWork { XCTAssertEqual(h.call(h.rootEC, .call, 302), .blocked) }
            XCTAssertTrue(h.kernel.pickNext()?.1 === handler, "the handler runs on the caller's SC")
            h.setMessage(handler, untyped: [h.data(handler, 0) + 1])
            kernelWork { XCTAssertEqual(h.call(handler, .reply), .blocked) }
            XCTAssertEqual(h.data(h.rootEC, 0), UInt64(i) + 1, "round trip \(i) completed")
        }
        let after = h.kernel.statistics
        let exits = after.exits - before.exits, hypercalls = after.hypercalls - before.hypercalls
        let perRound = { (n: UInt64) in Double(n) / Double(rounds) }
        print("IPC round trip (4 words there, 1 back), per round trip: kernel exits \(perRound(exits)), "
              + "hypercalls \(perRound(hypercalls)), kernel physical memory accesses \(perRound(kernelAccesses)) "
              + "(8-byte words and whole pages), page-table walks \(perRound(kernelWalks)) (the kernel reads UTCBs "
              + "physically; only user code walks), new RAM pages touched "
              + "\(h.machine.memory.touchedPageCount - touchedBefore) in \(rounds) rounds")
        XCTAssertGreaterThan(exits, 0)
        XCTAssertEqual(hypercalls, UInt64(2 * rounds))
        // Copying 4 words there and 1 back plus the counts and portal id: at least 12 words per round trip.
        XCTAssertGreaterThanOrEqual(kernelAccesses, UInt64(12 * rounds), "the kernel moved the messages through RAM")
        XCTAssertEqual(kernelWalks, 0, "the kernel does not use the MMU")
    }
}
