import XCTest
@testable import DeviceModels

final class SystemControlPortTests: XCTestCase {
    func testBitsAsLinuxReadsAndWritesThem() {
        let pit = PIT8254(lines: LineRecorder())
        let port = SystemControlPort(pit: pit)
        XCTAssertEqual(port.portRead(0x61, size: 1), 0x00)
        port.portWrite(0x61, size: 1, value: 0xff)   // read-only bits written back are ignored
        XCTAssertTrue(pit.channel2Gate)
        XCTAssertEqual(port.portRead(0x61, size: 1) & 0xcf, 0x0f)
        port.portWrite(0x61, size: 1, value: 0x0c)
        XCTAssertFalse(pit.channel2Gate)
        XCTAssertEqual(port.portRead(0x61, size: 1) & 0x0f, 0x0c)
        XCTAssertTrue(port.errors.pending.isEmpty)
    }

    func testRefreshToggleFollowsVirtualTime() {
        let pit = PIT8254(lines: LineRecorder())
        let port = SystemControlPort(pit: pit)
        var toggles = 0
        var last = port.portRead(0x61, size: 1) & 0x10
        var time: UInt64 = 0
        while time < 1_000_000 {
            time += 1000
            pit.advance(to: time)
            let bit = port.portRead(0x61, size: 1) & 0x10
            if bit != last { toggles += 1 }
            last = bit
        }
        XCTAssertEqual(toggles, 1_000_000 / 15_085, "one toggle per refresh request, every 15.085 µs")
    }

    func testChannel2OutputIsBit5() {
        let pit = PIT8254(lines: LineRecorder())
        let port = SystemControlPort(pit: pit)
        port.portWrite(0x61, size: 1, value: 0x01)
        pit.portWrite(0x43, size: 1, value: 0xb0)
        pit.portWrite(0x42, size: 1, value: 10)
        pit.portWrite(0x42, size: 1, value: 0)
        XCTAssertEqual(port.portRead(0x61, size: 1) & 0x20, 0)
        pit.advance(to: 10 * 1_000_000_000 / 1_193_182 + 1)
        XCTAssertEqual(port.portRead(0x61, size: 1) & 0x20, 0x20)
    }

    func testPostPortAndBadAccesses() {
        let port = SystemControlPort(pit: PIT8254(lines: LineRecorder()))
        port.portWrite(0x80, size: 1, value: 0x55)
        XCTAssertEqual(port.lastPOSTCode, 0x55)
        XCTAssertEqual(port.portRead(0x80, size: 1), 0xff)
        XCTAssertEqual(port.portRead(0x61, size: 2), 0xffff)
        port.portWrite(0x61, size: 2, value: 0)
        XCTAssertEqual(port.errors.pending, [.unsupportedAccess(.systemControlPort, offset: 0x61, size: 2, write: false),
                                            .unsupportedAccess(.systemControlPort, offset: 0x61, size: 2, write: true)])
    }
}
