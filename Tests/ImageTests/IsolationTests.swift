import Foundation
import XCTest

/// Isolation enforced by the hardware on the image: the I/O permission bitmap of the running PD, and each EC's own
/// x87/SSE registers.
final class IsolationTests: XCTestCase {
    func testUngrantedPortWriteFaultsAndGrantedPortsWork() throws {
        let result = try BuiltImage.bootTestManifest("intruder")
        let output = result.output
        XCTAssertEqual(result.status, 0, output)
        // The serial driver writes COM1 from ring 3 (granted ports), so these lines arrive at all.
        XCTAssertTrue(output.contains("intruder: call to ungranted selector 356 returned: bad selector"), output)
        XCTAssertTrue(output.contains("intruder: writing ungranted I/O port 128"), output)
        XCTAssertTrue(output.contains("root: intruder faulted: general protection fault (vector 13)"), output)
        XCTAssertFalse(output.contains("the port write did not fault"), output)
    }

    func testVectorRegistersSurvivePreemptionByAnotherPD() throws {
        let result = try BuiltImage.bootTestManifest("fpu")
        let output = result.output
        XCTAssertEqual(result.status, 0, output)
        XCTAssertFalse(output.contains("vector registers changed"), output)
        // The test means something only if the two really took turns (LAPIC timer, budget preemption).
        for name in ["fpu-a", "fpu-b"] {
            let line = output.split(whereSeparator: \.isNewline).first { $0.hasPrefix("\(name): vector registers intact across ") }
            let count = line.flatMap { Int($0.split(separator: " ")[5]) }
            XCTAssertNotNil(count, "no result line from \(name): \(output)")
            XCTAssertGreaterThan(count ?? 0, 0, "\(name) was never preempted: \(output)")
        }
    }

    /// Not isolation but the same machinery: a timed semaphore down with nothing else runnable makes the kernel
    /// idle until the LAPIC one-shot fires at the deadline (tick = TSC).
    func testTimedDownSleepsUntilTheDeadlineThroughIdleAndTheLAPICTimer() throws {
        let result = try BuiltImage.bootTestManifest("timer")
        let output = result.output
        XCTAssertEqual(result.status, 0, output)
        for milliseconds in [20, 50] {
            let prefix = "timercheck: down with a \(milliseconds) ms deadline returned timeout after "
            let line = output.split(whereSeparator: \.isNewline).first { $0.hasPrefix(prefix) }
            let slept = line.flatMap { Int($0.dropFirst(prefix.count).split(separator: " ")[0]) }
            XCTAssertNotNil(slept, "missing '\(prefix)': \(output)")
            XCTAssertGreaterThanOrEqual(slept ?? 0, milliseconds, output)
            XCTAssertLessThan(slept ?? Int.max, milliseconds + 1000, output)
        }
    }
}
