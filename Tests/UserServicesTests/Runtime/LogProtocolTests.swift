import KernelABI
import UserRuntime
import XCTest

final class LogProtocolTests: XCTestCase {
    func testRequestsRoundTripThroughTheUTCB() {
        let platform = FakeUserPlatform()
        let utcb = UTCB(platform: platform, base: 0x10000)
        let text = Array("hello: twelve+ bytes of text\n".utf8)
        text.withUnsafeBufferPointer { LogProtocol.setRequest(utcb, bytes: $0) }
        XCTAssertEqual(utcb.untypedCount, 1 + (text.count + 7) / 8)
        XCTAssertEqual(LogProtocol.request(utcb), text)
    }

    func testACountLargerThanTheMessageIsRejected() {
        let platform = FakeUserPlatform()
        let utcb = UTCB(platform: platform, base: 0x10000)
        utcb.setMessage(untyped: [100, 0x4141])
        XCTAssertNil(LogProtocol.request(utcb))
        utcb.setMessage(untyped: [])
        XCTAssertNil(LogProtocol.request(utcb))
    }
}
