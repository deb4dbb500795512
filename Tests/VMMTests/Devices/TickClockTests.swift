import XCTest
@testable import DeviceModels

final class TickClockTests: XCTestCase {
    func testTimeOfTickIsTheFirstTimeWithThatTick() {
        let clock = TickClock(hertz: 1_193_182)
        for tick: UInt64 in [1, 2, 4773, 65_536, 1_193_182, 123_456_789] {
            let time = clock.time(ofTick: tick)
            XCTAssertEqual(clock.ticks(at: time), tick)
            XCTAssertEqual(clock.ticks(at: time - 1), tick - 1)
        }
        XCTAssertEqual(clock.ticks(at: 1_000_000_000), 1_193_182)
    }

    func testHugeValuesSaturateInsteadOfTrapping() {
        let clock = TickClock(hertz: 1_000_000_000_000)
        XCTAssertEqual(clock.ticks(at: .max), .max)
        XCTAssertEqual(TickClock(hertz: 1).time(ofTick: .max), .max)
        XCTAssertEqual(TickClock(hertz: 0).hertz, 1, "a zero frequency is taken as 1 Hz")
    }
}
