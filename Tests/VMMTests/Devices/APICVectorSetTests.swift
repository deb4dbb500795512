import XCTest
@testable import DeviceModels

final class APICVectorSetTests: XCTestCase {
    func testWordBoundaries() {
        var set = APICVectorSet()
        XCTAssertTrue(set.isEmpty)
        XCTAssertNil(set.highest)
        for vector: UInt8 in [0, 63, 64, 127, 128, 191, 192, 255] { set.insert(vector) }
        XCTAssertEqual(set.vectors, [0, 63, 64, 127, 128, 191, 192, 255])
        XCTAssertEqual(set.highest, 255)
        XCTAssertEqual(set.register(0), 0x0000_0001)
        XCTAssertEqual(set.register(1), 0x8000_0000)
        XCTAssertEqual(set.register(7), 0x8000_0000)
        set.remove(255)
        XCTAssertEqual(set.highest, 192)
        XCTAssertFalse(set.contains(255))
        XCTAssertTrue(set.contains(64))
    }
}
