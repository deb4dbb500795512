import XCTest
@testable import DeviceModels

final class TimedDeviceGroupTests: XCTestCase {
    func testEarliestDeadlineAndAdvanceOfAll() {
        let lines = LineRecorder()
        let pit = PIT8254(lines: lines)
        let apic = LocalAPIC()
        let group = TimedDeviceGroup([pit])
        group.add(apic)
        XCTAssertNil(group.nextDeadline)
        pit.portWrite(0x43, size: 1, value: 0x34)
        pit.portWrite(0x40, size: 1, value: 0xff)
        pit.portWrite(0x40, size: 1, value: 0xff)
        apic.mmioWrite(offset: 0x320, size: 4, value: 0x40)
        apic.mmioWrite(offset: 0x3e0, size: 4, value: 0xb)
        apic.mmioWrite(offset: 0x380, size: 4, value: 5000)
        XCTAssertEqual(group.nextDeadline, 5000, "the APIC's, before the PIT's 54.9 ms")
        group.advance(to: 5000)
        XCTAssertTrue(apic.isRequested(0x40))
        XCTAssertEqual(group.nextDeadline, pit.nextDeadline)
        XCTAssertEqual(pit.now, 5000)
    }
}
