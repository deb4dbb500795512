import XCTest
@testable import DeviceModels

/// The PM1a registers as Linux's ACPICA drives them: 16-bit accesses at the FADT's ports, write-1-to-clear status,
/// SLP_TYP | SLP_EN for S5, and the reset register.
final class ACPIPowerManagementTests: XCTestCase {
    private final class Lines: InterruptLines {
        var levels: [Int: Bool] = [:]
        var changes = 0
        func setLevel(line: Int, high: Bool) { levels[line] = high; changes += 1 }
    }

    func testPowerOffBySleepTypeS5() {
        let pm = ACPIPowerManagement()
        XCTAssertEqual(pm.portRead(0x604, size: 2) & 1, 1, "SCI_EN: always in ACPI mode")
        // ACPICA: clear all status bits, write SLP_TYP alone, then SLP_TYP | SLP_EN.
        pm.portWrite(0x600, size: 2, value: 0xffff)
        pm.portWrite(0x604, size: 2, value: 5 << 10 | 1)
        XCTAssertFalse(pm.powerOffRequested, "SLP_TYP without SLP_EN does nothing")
        XCTAssertEqual(pm.portRead(0x604, size: 2), 5 << 10 | 1)
        pm.portWrite(0x604, size: 2, value: 5 << 10 | 1 << 13 | 1)
        XCTAssertTrue(pm.powerOffRequested)
        XCTAssertFalse(pm.resetRequested)
        XCTAssertEqual(pm.portRead(0x604, size: 2) & (1 << 13), 0, "SLP_EN is write-only")
    }

    func testHighByteWriteAlsoCarriesSleepEnable() {
        // SLP_TYP (bits 10-12) and SLP_EN (bit 13) share the high byte: one byte write is enough.
        let pm = ACPIPowerManagement()
        pm.portWrite(0x605, size: 1, value: UInt32(5 << 2 | 1 << 5))
        XCTAssertTrue(pm.powerOffRequested)
    }

    func testOtherSleepTypesAreReportedNotActedOn() {
        let pm = ACPIPowerManagement()
        pm.portWrite(0x604, size: 2, value: 3 << 10 | 1 << 13)
        XCTAssertFalse(pm.powerOffRequested)
        XCTAssertEqual(pm.unsupportedSleepType, 3)
        // With the S5 value configured as QEMU's (0), 0 powers off and 5 does not.
        let zero = ACPIPowerManagement(layout: .init(s5SleepType: 0))
        zero.portWrite(0x604, size: 2, value: 5 << 10 | 1 << 13)
        XCTAssertFalse(zero.powerOffRequested)
        zero.portWrite(0x604, size: 2, value: 1 << 13)
        XCTAssertTrue(zero.powerOffRequested)
    }

    func testResetRegister() {
        let pm = ACPIPowerManagement()
        pm.portWrite(0xcf9, size: 1, value: 0x02)
        XCTAssertFalse(pm.resetRequested)
        pm.portWrite(0xcf9, size: 1, value: 0x06)
        XCTAssertTrue(pm.resetRequested)
        XCTAssertFalse(pm.powerOffRequested)
        pm.reset()
        XCTAssertFalse(pm.resetRequested)
        let other = ACPIPowerManagement(layout: .init(resetPort: 0x64, resetValue: 0xfe))
        other.portWrite(0x64, size: 1, value: 0xfe)
        XCTAssertTrue(other.resetRequested)
    }

    func testStatusIsWriteOneToClearAndRaisesTheSCI() {
        let lines = Lines()
        let pm = ACPIPowerManagement(interrupts: lines)
        pm.pressPowerButton()
        XCTAssertEqual(pm.portRead(0x600, size: 2), 1 << 8, "PWRBTN_STS")
        XCTAssertNil(lines.levels[9], "not enabled: no SCI")
        pm.portWrite(0x602, size: 2, value: 1 << 8)  // PWRBTN_EN
        XCTAssertEqual(lines.levels[9], true)
        XCTAssertTrue(pm.sciRaised)
        XCTAssertEqual(pm.portRead(0x600, size: 4), 1 << 8 | (1 << 8) << 16, "PM1_STS | PM1_EN << 16")
        pm.portWrite(0x600, size: 2, value: 0)  // writing 0 clears nothing
        XCTAssertEqual(pm.portRead(0x600, size: 2), 1 << 8)
        pm.portWrite(0x600, size: 2, value: 1 << 8)
        XCTAssertEqual(pm.portRead(0x600, size: 2), 0)
        XCTAssertEqual(lines.levels[9], false)
        XCTAssertEqual(lines.changes, 2)
    }

    func testUndecodedPortsAndSizes() {
        let pm = ACPIPowerManagement()
        XCTAssertEqual(pm.portRead(0x606, size: 2), 0xffff)
        XCTAssertEqual(pm.portRead(0x5ff, size: 1), 0xff)
        XCTAssertEqual(pm.portRead(0x600, size: 3), UInt32.max)
        // A read across the end of the control block: PM1_CNT then floating bytes.
        XCTAssertEqual(pm.portRead(0x604, size: 4), 0xffff_0001)
        XCTAssertTrue(pm.decodes(0x603))
        XCTAssertFalse(pm.decodes(0x606))
        XCTAssertTrue(pm.decodes(0xcf9))
        XCTAssertFalse(pm.decodes(0xcf8))
        pm.portWrite(0x604, size: 3, value: 5 << 10 | 1 << 13)
        XCTAssertFalse(pm.powerOffRequested, "a 3-byte access is dropped")
        // The tail of an access at the top of the port space does not wrap around to port 0.
        let high = ACPIPowerManagement(layout: .init(eventBlock: 0xfffc, controlBlock: 0x0000))
        XCTAssertEqual(high.portRead(0xfffe, size: 4), 0xffff_0000)
    }

    func testResetClearsEverything() {
        let lines = Lines()
        let pm = ACPIPowerManagement(interrupts: lines)
        pm.portWrite(0x602, size: 2, value: 1 << 8)
        pm.pressPowerButton()
        pm.portWrite(0x604, size: 2, value: 5 << 10 | 1 << 13)
        pm.reset()
        XCTAssertFalse(pm.powerOffRequested)
        XCTAssertEqual(pm.portRead(0x600, size: 4), 0)
        XCTAssertEqual(pm.portRead(0x604, size: 2), 1)
        XCTAssertEqual(lines.levels[9], false)
    }
}
