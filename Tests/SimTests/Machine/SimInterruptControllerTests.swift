import XCTest
@testable import Sim

final class SimInterruptControllerTests: XCTestCase {
    func testEdgeMaskInServiceAndEOI() {
        let pic = SimInterruptController(lineCount: 4)
        pic.pulse(2)
        XCTAssertNil(pic.acknowledge(), "lines start masked")
        pic.unmask(2)
        XCTAssertEqual(pic.acknowledge(), 2)
        XCTAssertNil(pic.acknowledge(), "an edge is delivered once")
        pic.pulse(2)
        XCTAssertNil(pic.acknowledge(), "in service until EOI")
        pic.endOfInterrupt(2)
        XCTAssertEqual(pic.acknowledge(), 2)
    }

    func testLevelStaysPendingWhileAssertedAndLowestFirst() {
        let pic = SimInterruptController(lineCount: 4)
        pic.unmask(1); pic.unmask(3)
        pic.setLevel(3, asserted: true)
        pic.pulse(1)
        XCTAssertEqual(pic.acknowledge(), 1)
        XCTAssertEqual(pic.acknowledge(), 3)
        pic.endOfInterrupt(3)
        XCTAssertEqual(pic.acknowledge(), 3, "still asserted")
        pic.endOfInterrupt(3)
        pic.setLevel(3, asserted: false)
        XCTAssertNil(pic.acknowledge())
        pic.mask(9) // beyond the lines: ignored, not a crash
        XCTAssertTrue(pic.isMasked(9))
    }
}
