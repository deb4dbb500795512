import SerialDriver
import XCTest

final class UART16550Tests: XCTestCase {
    func testInitializationProgramsDivisorOneAnd8N1() {
        let platform = FakeUserPlatform()
        UART16550(platform: platform, base: 0x3f8).initialize()
        XCTAssertEqual(platform.portWrites.map { [UInt64($0.0), UInt64($0.1)] },
                       [[0x3f9, 0], [0x3fb, 0x80], [0x3f8, 1], [0x3f9, 0], [0x3fb, 3], [0x3fa, 0xc7], [0x3fc, 3]])
    }

    func testWritesWaitForTheTransmitterThenSend() {
        let platform = FakeUserPlatform()
        var polls = 0
        platform.portReads = { port in
            XCTAssertEqual(port, 0x2fd)
            polls += 1
            return polls < 3 ? 0 : 0x20
        }
        XCTAssertTrue(UART16550(platform: platform, base: 0x2f8).write(0x41))
        XCTAssertEqual(polls, 3)
        XCTAssertEqual(platform.portWrites.map { [UInt64($0.0), UInt64($0.1)] }, [[0x2f8, 0x41]])
    }

    func testAUARTThatNeverBecomesReadyDoesNotHangTheDriver() {
        let platform = FakeUserPlatform()
        platform.portReads = { _ in 0 }
        XCTAssertFalse(UART16550(platform: platform, base: 0x3f8).write(0x41))
        XCTAssertTrue(platform.portWrites.isEmpty)
    }
}
