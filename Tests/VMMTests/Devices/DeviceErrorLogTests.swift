import XCTest
@testable import DeviceModels

final class DeviceErrorLogTests: XCTestCase {
    func testKeepsTheFirstAndCountsTheRest() {
        var log = DeviceErrorLog()
        for line in 0..<40 { log.record(.noSuchLine(line)) }
        XCTAssertEqual(log.pending.count, DeviceErrorLog.capacity)
        XCTAssertEqual(log.pending.first, .noSuchLine(0))
        XCTAssertEqual(log.dropped, 40 - DeviceErrorLog.capacity)
        let taken = log.take()
        XCTAssertEqual(taken.errors.count, DeviceErrorLog.capacity)
        XCTAssertEqual(taken.dropped, 24)
        XCTAssertTrue(log.pending.isEmpty)
        XCTAssertEqual(log.dropped, 0)
        XCTAssertEqual(log.total, 40, "the total survives a take")
    }

    func testMessagesNameTheDeviceAndWhatWasWrong() {
        XCTAssertEqual(DeviceProgrammingError.unsupportedAccess(.localAPIC, offset: 0x84, size: 1, write: true).message,
                       "local APIC: 1-byte write at offset 0x84 not decoded")
        XCTAssertEqual(DeviceProgrammingError.readOnlyRegister(.ioapic, register: 1).message,
                       "IOAPIC: write to read-only register 0x1 dropped")
        XCTAssertEqual(DeviceProgrammingError.illegalCount(channel: 0, mode: 2, count: 1).message,
                       "8254 PIT: channel 0 mode 2 count 1 is illegal")
        XCTAssertEqual(DeviceProgrammingError.noDestination(.ioapic, source: 7, destination: 3).message,
                       "IOAPIC: source 7 addresses destination 0x3, no such APIC")
        XCTAssertEqual(DeviceProgrammingError.invalidTimeValue(register: 0, value: 0x75).message,
                       "CMOS RTC: register 0x0 value 0x75 out of range")
        XCTAssertEqual(DeviceProgrammingError.noSuchLine(2).message, "interrupt routing: line 2 does not exist")
    }
}
