import Kernel
import XCTest

/// The bitmap counts its allowed ports, so `isEmpty` (asked on every entry to user mode) needs no scan.
final class IOPermissionBitmapTests: XCTestCase {
    func testCountFollowsSetAndClearIncludingRepeatsAndOutOfRangePorts() {
        var bitmap = IOPermissionBitmap()
        XCTAssertTrue(bitmap.isEmpty)
        bitmap.set(0x3f8, allowed: true)
        bitmap.set(0x3f8, allowed: true)
        bitmap.set(65535, allowed: true)
        bitmap.set(65536, allowed: true)
        XCTAssertEqual(bitmap.allowedCount, 2)
        XCTAssertFalse(bitmap.isEmpty)
        XCTAssertTrue(bitmap.allows(0x3f8) && bitmap.allows(65535) && !bitmap.allows(65536))
        bitmap.set(0x3f9, allowed: false)
        XCTAssertEqual(bitmap.allowedCount, 2, "clearing a port that was not allowed changes nothing")
        bitmap.set(0x3f8, allowed: false)
        bitmap.set(65535, allowed: false)
        XCTAssertTrue(bitmap.isEmpty)
        XCTAssertEqual(bitmap, IOPermissionBitmap())
    }
}
