import XCTest
@testable import Kernel

/// The ready queues find the highest non-empty priority through a bitmap: these cases cover both bitmap words,
/// their boundary (63/64), emptying a priority, and round robin within one.
final class SchedulerTests: XCTestCase {
    private let pd = ProtectionDomain(id: 1, pageTableRoot: 0x1000, quotaLimit: 1, creator: nil, rights: 0)

    private func sc(_ id: UInt64, priority: UInt64) -> SchedulingContext {
        let ec = ExecutionContext(id: id, pd: pd, isGlobal: true, eventBase: 0, utcbAddress: 0, utcbFrame: 0,
                                  stackPointer: 0, entry: 0, chargedTo: nil)
        return SchedulingContext(id: id, ec: ec, priority: priority, budget: 10, chargedTo: nil)
    }

    func testHighestIsTheHeadOfTheHighestNonEmptyPriority() {
        var scheduler = Scheduler()
        XCTAssertNil(scheduler.highest)
        let low = sc(1, priority: 0), mid = sc(2, priority: 63), boundary = sc(3, priority: 64), top = sc(4, priority: 127)
        for s in [mid, low, top, boundary] { scheduler.enqueue(s) }
        XCTAssertTrue(scheduler.bitmapAgreesWithQueues)
        XCTAssertTrue(scheduler.highest === top)
        scheduler.remove(top)
        XCTAssertTrue(scheduler.highest === boundary)
        scheduler.remove(boundary)
        XCTAssertTrue(scheduler.highest === mid)
        scheduler.remove(mid)
        XCTAssertTrue(scheduler.highest === low)
        scheduler.remove(low)
        XCTAssertNil(scheduler.highest)
        XCTAssertTrue(scheduler.bitmapAgreesWithQueues)
    }

    func testAPriorityStaysMarkedUntilItsLastSCLeavesAndRotationIsRoundRobin() {
        var scheduler = Scheduler()
        let a = sc(1, priority: 10), b = sc(2, priority: 10), other = sc(3, priority: 5)
        scheduler.enqueue(a)
        scheduler.enqueue(b)
        scheduler.enqueue(other)
        XCTAssertTrue(scheduler.highest === a)
        scheduler.rotate(a)
        XCTAssertTrue(scheduler.highest === b)
        scheduler.remove(b)
        XCTAssertTrue(scheduler.highest === a, "priority 10 still holds a")
        scheduler.remove(a)
        XCTAssertTrue(scheduler.highest === other)
        XCTAssertTrue(scheduler.bitmapAgreesWithQueues)
        scheduler.enqueue(a)
        scheduler.enqueue(a)
        XCTAssertEqual(scheduler.queued.count, 2, "enqueueing twice queues once")
    }
}
