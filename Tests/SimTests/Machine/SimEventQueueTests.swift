import XCTest
@testable import Sim

final class SimEventQueueTests: XCTestCase {
    /// A machine on which random device interrupts are scheduled from the seed; returns its trace.
    private func run(seed: UInt64) -> [String] {
        let machine = SimMachine(memorySize: 1 << 20, interruptLines: 8, seed: seed)
        for i in 0..<20 {
            let delay = machine.random.next() % 1000
            let irq = machine.random.next() % 8
            machine.schedule(after: delay, "device \(i)") { $0.raiseInterrupt(irq) }
        }
        machine.advance(by: 1000)
        return machine.trace.lines
    }

    func testSameSeedSameTrace() {
        let first = run(seed: 42)
        XCTAssertEqual(first.count, 40)
        XCTAssertEqual(first, run(seed: 42))
        XCTAssertNotEqual(first, run(seed: 43))
    }

    func testEventsRunInTimeOrderAndAtTheirTime() {
        let machine = SimMachine(memorySize: 1 << 20)
        var seen: [(String, UInt64)] = []
        machine.schedule(after: 30, "c") { seen.append(("c", $0.now)) }
        machine.schedule(after: 10, "a") { seen.append(("a", $0.now)) }
        machine.schedule(after: 10, "b") { seen.append(("b", $0.now)) }
        machine.schedule(after: 10, "nested") { m in m.schedule(after: 5, "d") { seen.append(("d", $0.now)) } }
        machine.advance(by: 20)
        XCTAssertEqual(seen.map(\.0), ["a", "b", "d"])
        XCTAssertEqual(seen.map(\.1), [10, 10, 15])
        XCTAssertEqual(machine.now, 20)
        machine.advance(to: 100)
        XCTAssertEqual(seen.last?.0, "c")
        XCTAssertEqual(seen.last?.1, 30)
        XCTAssertTrue(machine.events.isEmpty)
    }
}
