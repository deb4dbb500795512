import XCTest
@testable import DeviceModels

/// The seams compile as existentials (what the VMM's buses store).
final class DeviceInterfacesTests: XCTestCase {
    private final class Latch: PortIODevice {
        var value: UInt32 = 0
        func portRead(_ port: UInt16, size: Int) -> UInt32 { value }
        func portWrite(_ port: UInt16, size: Int, value: UInt32) { self.value = value }
    }

    func testPortDeviceAsExistential() {
        let device: any PortIODevice = Latch()
        device.portWrite(0x80, size: 1, value: 0x5a)
        XCTAssertEqual(device.portRead(0x80, size: 1), 0x5a)
    }
}
