import XCTest
@testable import DeviceModels

final class CalendarTimeTests: XCTestCase {
    func testKnownDates() {
        XCTAssertEqual(CalendarTime(secondsSinceEpoch: 0),
                       CalendarTime(year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0))
        XCTAssertEqual(CalendarTime(secondsSinceEpoch: 0).weekday, 4, "a Thursday")
        let t = CalendarTime(secondsSinceEpoch: 1_700_000_000)
        XCTAssertEqual([t.year, t.month, t.day, t.hour, t.minute, t.second, t.weekday], [2023, 11, 14, 22, 13, 20, 2])
        let leap = CalendarTime(secondsSinceEpoch: 951_782_400)
        XCTAssertEqual([leap.year, leap.month, leap.day, leap.weekday], [2000, 2, 29, 2])
        let before = CalendarTime(secondsSinceEpoch: -1)
        XCTAssertEqual([before.year, before.month, before.day, before.hour, before.weekday], [1969, 12, 31, 23, 3])
    }

    func testRoundTripAcrossTheRTCsRange() {
        var random = SeededGenerator(seed: 3)
        let first = CalendarTime(year: 0, month: 1, day: 1, hour: 0, minute: 0, second: 0).secondsSinceEpoch
        let last = CalendarTime(year: 9999, month: 12, day: 31, hour: 23, minute: 59, second: 59).secondsSinceEpoch
        for _ in 0..<2000 {
            let seconds = Int64.random(in: first...last, using: &random)
            let t = CalendarTime(secondsSinceEpoch: seconds)
            XCTAssertEqual(t.secondsSinceEpoch, seconds)
            XCTAssertTrue((1...CalendarTime.daysInMonth(year: t.year, month: t.month)).contains(t.day))
        }
        XCTAssertEqual(CalendarTime.daysInMonth(year: 1900, month: 2), 28)
        XCTAssertEqual(CalendarTime.daysInMonth(year: 2024, month: 2), 29)
    }
}
