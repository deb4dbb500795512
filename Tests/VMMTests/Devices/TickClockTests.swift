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

    func testConversionsAreExactForLargeValues() {
        let clock = TickClock(hertz: 1_193_182)
        let ns: UInt64 = 500 * 365 * 86_400 * 1_000_000_000   // 500 years
        XCTAssertEqual(clock.ticks(at: ns), 500 * 365 * 86_400 * 1_193_182, "whole seconds: exactly the rate")
        XCTAssertEqual(clock.ticks(at: ns + 999_999_999), 500 * 365 * 86_400 * 1_193_182 + 1_193_181)
        let apic = TickClock(hertz: 10_000_000_000)
        XCTAssertEqual(apic.ticks(at: 1_000_000_007), 10_000_000_070)
        XCTAssertEqual(apic.time(ofTick: 10_000_000_071), 1_000_000_008)
    }

    func testHugeValuesSaturateInsteadOfTrapping() {
        let clock = TickClock(hertz: 1_000_000_000_000)
        XCTAssertEqual(clock.hertz, TickClock.maximumHertz, "frequencies are kept where the arithmetic is exact")
        XCTAssertEqual(clock.ticks(at: .max), .max)
        XCTAssertEqual(TickClock(hertz: 1).time(ofTick: .max), .max)
        XCTAssertEqual(TickClock(hertz: 0).hertz, 1, "a zero frequency is taken as 1 Hz")
        XCTAssertEqual(TickClock(hertz: 3).time(ofTick: UInt64.max / 2), .max)
    }
}
