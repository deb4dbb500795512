import XCTest
@testable import DeviceModels

final class PCIInterruptRouterTests: XCTestCase {
    func testSwizzleMapsSlotAndPinToPIRQLines() {
        let router = PCIInterruptRouter(lines: PCITestInterruptLines(), pirqLines: [16, 17, 18, 19])
        XCTAssertEqual(router.line(slot: 0, pin: 1), 16)
        XCTAssertEqual(router.line(slot: 1, pin: 1), 17)
        XCTAssertEqual(router.line(slot: 1, pin: 4), 16)
        XCTAssertEqual(router.line(slot: 6, pin: 2), 19)
        XCTAssertNil(router.line(slot: 1, pin: 0), "no pin")
        XCTAssertNil(router.line(slot: 1, pin: 5))
        XCTAssertNil(router.line(slot: 32, pin: 1))
        XCTAssertEqual(PCIInterruptRouter(lines: PCITestInterruptLines(), pirqLines: [1]).pirqLines, [10, 10, 11, 11])
    }

    func testSharedLineIsTheWiredOrOfItsPins() throws {
        let lines = PCITestInterruptLines()
        let router = PCIInterruptRouter(lines: lines)
        let a = try XCTUnwrap(router.pin(slot: 1, pin: 1))  // PIRQB: 10
        let b = try XCTUnwrap(router.pin(slot: 4, pin: 2))  // PIRQB: 10
        let c = try XCTUnwrap(router.pin(slot: 2, pin: 1))  // PIRQC: 11
        XCTAssertEqual([a.line, b.line, c.line], [10, 10, 11])
        a.setAsserted(true)
        b.setAsserted(true)
        a.setAsserted(true)
        XCTAssertTrue(lines.isHigh(10))
        XCTAssertEqual(lines.changes.count, 1, "one rising edge for the shared line")
        a.setAsserted(false)
        XCTAssertTrue(lines.isHigh(10), "b still holds it")
        c.setAsserted(true)
        XCTAssertTrue(lines.isHigh(11))
        b.setAsserted(false)
        XCTAssertFalse(lines.isHigh(10))
        XCTAssertTrue(router.isHigh(11))
        XCTAssertFalse(router.isHigh(10))
        XCTAssertEqual(lines.changes.map { $0.line }, [10, 11, 10])
    }
}
