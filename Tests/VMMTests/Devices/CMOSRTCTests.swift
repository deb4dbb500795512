import XCTest
@testable import DeviceModels

final class CMOSRTCTests: XCTestCase {
    /// 2023-11-14 22:13:20, a Tuesday.
    private let start: Int64 = 1_700_000_000
    private let second: UInt64 = 1_000_000_000

    private func read(_ rtc: CMOSRTC, _ register: UInt8) -> UInt8 {
        rtc.portWrite(0x70, size: 1, value: UInt32(register))
        return UInt8(rtc.portRead(0x71, size: 1))
    }

    private func write(_ rtc: CMOSRTC, _ register: UInt8, _ value: UInt8) {
        rtc.portWrite(0x70, size: 1, value: UInt32(register))
        rtc.portWrite(0x71, size: 1, value: UInt32(value))
    }

    private func bcd(_ value: UInt8) -> Int { Int(value >> 4) * 10 + Int(value & 0xf) }

    /// mc146818_get_time: waits for update-in-progress to clear, reads the registers, BCD-decodes them.
    private func linuxReadTime(_ rtc: CMOSRTC) -> CalendarTime? {
        guard read(rtc, 0x0a) & 0x80 == 0 else { return nil }
        let year = bcd(read(rtc, 0x32)) * 100 + bcd(read(rtc, 9))
        return CalendarTime(year: year, month: bcd(read(rtc, 8)), day: bcd(read(rtc, 7)), hour: bcd(read(rtc, 4)),
                            minute: bcd(read(rtc, 2)), second: bcd(read(rtc, 0)))
    }

    func testTimeIsTheStartPlusVirtualTime() {
        let rtc = CMOSRTC(lines: LineRecorder(), startTime: start)
        XCTAssertEqual(linuxReadTime(rtc)?.secondsSinceEpoch, start)
        XCTAssertEqual(read(rtc, 6), 3, "Tuesday is day 3 (Sunday = 1)")
        XCTAssertEqual(read(rtc, 0x0b), 0x02, "BCD, 24-hour")
        XCTAssertEqual(read(rtc, 0x0d), 0x80, "valid RAM and time")
        rtc.advance(to: second / 2)
        XCTAssertEqual(linuxReadTime(rtc)?.secondsSinceEpoch, start)
        rtc.advance(to: second + second / 2)
        XCTAssertEqual(linuxReadTime(rtc)?.secondsSinceEpoch, start + 1)
        rtc.advance(to: 86_400 * second + second / 2)
        XCTAssertEqual(linuxReadTime(rtc)?.secondsSinceEpoch, start + 86_400)
        XCTAssertEqual(read(rtc, 6), 4)
    }

    func testUpdateInProgressWindow() {
        let rtc = CMOSRTC(lines: LineRecorder(), startTime: start)
        rtc.advance(to: second - 3_000_000)
        XCTAssertEqual(read(rtc, 0x0a), 0x26, "divider 32.768 kHz, 1024 Hz rate, no update in progress")
        rtc.advance(to: second - 2_000_000)
        XCTAssertEqual(read(rtc, 0x0a) & 0x80, 0x80, "244 µs + 1984 µs before the update")
        XCTAssertEqual(bcd(read(rtc, 0)), 20, "the registers still show the old second")
        rtc.advance(to: second + 1000)
        XCTAssertEqual(read(rtc, 0x0a) & 0x80, 0)
        XCTAssertEqual(bcd(read(rtc, 0)), 21)
    }

    func testBinaryAnd12HourFormats() {
        let rtc = CMOSRTC(lines: LineRecorder(), startTime: start)
        write(rtc, 0x0b, 0x06)
        XCTAssertEqual(read(rtc, 4), 22)
        XCTAssertEqual(read(rtc, 9), 23)
        write(rtc, 0x0b, 0x04)
        XCTAssertEqual(read(rtc, 4), 0x80 | 10, "10 PM")
        write(rtc, 0x0b, 0x00)
        XCTAssertEqual(read(rtc, 4), 0x80 | 0x10, "10 PM in BCD")
        // Midnight and noon in 12-hour mode.
        let midnight = CMOSRTC(lines: LineRecorder(), startTime: 1_699_920_000)  // 2023-11-14 00:00:00
        write(midnight, 0x0b, 0x00)
        XCTAssertEqual(read(midnight, 4), 0x12, "12 AM")
        let noon = CMOSRTC(lines: LineRecorder(), startTime: 1_699_963_200)
        write(noon, 0x0b, 0x00)
        XCTAssertEqual(read(noon, 4), 0x92, "12 PM")
    }

    func testWritesIn12HourAndBinaryModes() {
        let rtc = CMOSRTC(lines: LineRecorder(), startTime: start)
        write(rtc, 0x0b, 0x80)                     // SET, BCD, 12-hour
        write(rtc, 4, 0x92)                        // 12 PM
        write(rtc, 0x0b, 0x00)
        XCTAssertEqual(read(rtc, 4), 0x92)
        write(rtc, 0x0b, 0x02)
        XCTAssertEqual(read(rtc, 4), 0x12, "noon in 24-hour BCD")
        write(rtc, 0x0b, 0x06)                     // binary, 24-hour
        write(rtc, 2, 45)
        write(rtc, 4, 7)
        XCTAssertEqual([read(rtc, 4), read(rtc, 2), read(rtc, 0)], [7, 45, 20])
        write(rtc, 0x0b, 0x02)
        XCTAssertEqual([read(rtc, 4), read(rtc, 2)], [0x07, 0x45])
        XCTAssertTrue(rtc.errors.pending.isEmpty)
        write(rtc, 0x0b, 0x00)
        write(rtc, 4, 0x13)                        // hour 13 does not exist in 12-hour mode
        XCTAssertEqual(rtc.errors.pending, [.invalidTimeValue(register: 4, value: 0x13)])
    }

    func testLinuxSetTimeSequence() {
        let rtc = CMOSRTC(lines: LineRecorder(), startTime: start)
        rtc.advance(to: 10 * second + 300_000_000)
        // mc146818_set_time: SET, divider reset, the registers, then control and divider restored.
        let control = read(rtc, 0x0b)
        write(rtc, 0x0b, control | 0x80)
        let frequency = read(rtc, 0x0a)
        write(rtc, 0x0a, frequency | 0x70)
        for (register, value) in [(9, 0x24), (8, 0x02), (7, 0x29), (4, 0x23), (2, 0x59), (0, 0x58)] as [(UInt8, UInt8)] {
            write(rtc, register, value)
        }
        XCTAssertEqual(read(rtc, 0), 0x58, "held while SET is on")
        write(rtc, 0x0b, control)
        write(rtc, 0x0a, frequency)
        let written = CalendarTime(year: 2024, month: 2, day: 29, hour: 23, minute: 59, second: 58).secondsSinceEpoch
        XCTAssertEqual(linuxReadTime(rtc)?.secondsSinceEpoch, written)
        XCTAssertTrue(rtc.errors.pending.isEmpty)
        rtc.advance(to: rtc_now(10.79))
        XCTAssertEqual(linuxReadTime(rtc)?.secondsSinceEpoch, written, "the first update half a second after the reset")
        rtc.advance(to: rtc_now(10.81))
        XCTAssertEqual(linuxReadTime(rtc)?.secondsSinceEpoch, written + 1)
        rtc.advance(to: rtc_now(11.81))
        XCTAssertEqual(linuxReadTime(rtc), CalendarTime(year: 2024, month: 3, day: 1, hour: 0, minute: 0, second: 0))
    }

    private func rtc_now(_ seconds: Double) -> UInt64 { UInt64(seconds * 1e9) }

    func testDividerResetStopsTheClock() {
        let rtc = CMOSRTC(lines: LineRecorder(), startTime: start)
        write(rtc, 0x0a, 0x76)
        rtc.advance(to: 10 * second)
        XCTAssertEqual(bcd(read(rtc, 0)), 20)
        XCTAssertEqual(read(rtc, 0x0a) & 0x80, 0, "no update in progress while stopped")
    }

    func testPeriodicInterruptAt1024Hz() {
        let lines = LineRecorder()
        let rtc = CMOSRTC(lines: lines, startTime: start)
        write(rtc, 0x0b, 0x42)
        XCTAssertEqual(rtc.nextDeadline, 976_563, "32 cycles of 32.768 kHz")
        var interrupts = 0
        while let deadline = rtc.nextDeadline, deadline <= second {
            rtc.advance(to: deadline)
            XCTAssertTrue(lines.level(8))
            XCTAssertNil(rtc.nextDeadline, "IRQ 8 is held until register C is read")
            XCTAssertEqual(read(rtc, 0x0c) & 0xe0, 0xc0, "IRQF and PF (UF as well at the second's update)")
            XCTAssertFalse(lines.level(8))
            interrupts += 1
        }
        XCTAssertEqual(interrupts, 1024)
        XCTAssertEqual(lines.edges(8), 1024)
    }

    func testUpdateEndedAndAlarmInterrupts() {
        let lines = LineRecorder()
        let rtc = CMOSRTC(lines: lines, startTime: start)
        write(rtc, 0x0b, 0x12)   // UIE
        XCTAssertEqual(rtc.nextDeadline, second)
        rtc.advance(to: second)
        XCTAssertTrue(lines.level(8))
        XCTAssertEqual(read(rtc, 0x0c), 0xd0, "IRQF and UF (PF is set by the running divider, not enabled)")
        // The alarm at 22:13:25: five seconds after the start.
        write(rtc, 0x0b, 0x22)
        write(rtc, 1, 0x25)
        write(rtc, 3, 0x13)
        write(rtc, 5, 0x22)
        var fired: UInt64?
        while let deadline = rtc.nextDeadline, deadline <= 10 * second {
            rtc.advance(to: deadline)
            if lines.level(8) {
                fired = fired ?? deadline
                XCTAssertEqual(read(rtc, 0x0c) & 0xa0, 0xa0)
            }
        }
        XCTAssertEqual(fired, 5 * second)
        // Don't-care bytes (0xc0-0xff) match every second.
        write(rtc, 1, 0xff)
        write(rtc, 3, 0xc0)
        write(rtc, 5, 0xc0)
        _ = read(rtc, 0x0c)
        rtc.advance(to: 11 * second)
        XCTAssertTrue(lines.level(8))
    }

    func testAlarmFlagAcrossCoarseAdvances() {
        let rtc = CMOSRTC(lines: LineRecorder(), startTime: start)
        write(rtc, 0x0b, 0x00)   // BCD, 12-hour: 10 PM is 0x90
        write(rtc, 1, 0x30)
        write(rtc, 3, 0x13)
        write(rtc, 5, 0x90)
        rtc.advance(to: 9 * second)
        XCTAssertEqual(read(rtc, 0x0c) & 0x20, 0, "22:13:29 is not yet the alarm")
        rtc.advance(to: 10 * second)
        XCTAssertEqual(read(rtc, 0x0c) & 0x20, 0x20, "22:13:30")
        rtc.advance(to: 3 * 86_400 * second)
        XCTAssertEqual(read(rtc, 0x0c) & 0x20, 0x20, "every day comes round again")
        write(rtc, 1, 0x75)      // a value no second has
        rtc.advance(to: 5 * 86_400 * second)
        XCTAssertEqual(read(rtc, 0x0c) & 0x20, 0)
    }

    func testFlagsWithoutEnablesRaiseNothing() {
        let lines = LineRecorder()
        let rtc = CMOSRTC(lines: lines, startTime: start)
        XCTAssertNil(rtc.nextDeadline)
        rtc.advance(to: 3 * second)
        XCTAssertEqual(read(rtc, 0x0c), 0x50, "PF and UF, no IRQF")
        XCTAssertEqual(read(rtc, 0x0c), 0x00, "reading C clears it")
        XCTAssertEqual(lines.calls, 0)
    }

    func testSetClearsUpdateInterruptEnable() {
        let rtc = CMOSRTC(lines: LineRecorder(), startTime: start)
        write(rtc, 0x0b, 0x92)
        XCTAssertEqual(read(rtc, 0x0b), 0x82)
        rtc.advance(to: 5 * second)
        XCTAssertEqual(read(rtc, 0x0c) & 0x10, 0, "no updates while SET holds the clock")
        XCTAssertEqual(read(rtc, 0x0a) & 0x80, 0)
    }

    func testCenturyRollsOver() {
        let rtc = CMOSRTC(lines: LineRecorder(), startTime: CalendarTime(year: 2099, month: 12, day: 31, hour: 23,
                                                                          minute: 59, second: 59).secondsSinceEpoch)
        XCTAssertEqual([read(rtc, 9), read(rtc, 0x32)], [0x99, 0x20])
        rtc.advance(to: second)
        XCTAssertEqual([read(rtc, 0), read(rtc, 7), read(rtc, 8), read(rtc, 9), read(rtc, 0x32)], [0, 1, 1, 0, 0x21])
    }

    func testWeekdayCountsOnFromWhatTheGuestWrote() {
        let rtc = CMOSRTC(lines: LineRecorder(), startTime: start)
        write(rtc, 6, 7)
        XCTAssertEqual(read(rtc, 6), 7)
        rtc.advance(to: 86_400 * second)
        XCTAssertEqual(read(rtc, 6), 1)
    }

    func testCMOSRAMAndNMIMask() {
        let rtc = CMOSRTC(lines: LineRecorder(), startTime: start)
        for index in UInt8(0x0e)..<0x80 where index != 0x32 {
            write(rtc, index, index ^ 0x5a)
        }
        for index in UInt8(0x0e)..<0x80 where index != 0x32 {
            XCTAssertEqual(read(rtc, index), index ^ 0x5a)
        }
        XCTAssertTrue(rtc.setRAM(0x34, 0x12))
        XCTAssertFalse(rtc.setRAM(0x00, 0x12))
        XCTAssertEqual(read(rtc, 0x34), 0x12)
        rtc.portWrite(0x70, size: 1, value: 0x8f)
        XCTAssertTrue(rtc.nmiMasked)
        XCTAssertEqual(rtc.portRead(0x71, size: 1), 0x0f ^ 0x5a, "the index is bits 0-6")
        XCTAssertEqual(rtc.portRead(0x70, size: 1), 0xff, "the index port is write-only")
    }

    func testNonsenseValuesAreRecordedAndTakenModuloTheirRange() {
        let rtc = CMOSRTC(lines: LineRecorder(), startTime: start)
        write(rtc, 0, 0x75)
        XCTAssertEqual(rtc.errors.pending, [.invalidTimeValue(register: 0, value: 0x75)])
        XCTAssertEqual(read(rtc, 0), 0x15)
        write(rtc, 8, 0x13)
        XCTAssertEqual(read(rtc, 8), 0x01)
        write(rtc, 8, 0x02)
        write(rtc, 7, 0x31)   // February 31st
        XCTAssertEqual(read(rtc, 7), 0x28, "clamped to February 2023's last day")
        write(rtc, 4, 0xab)
        XCTAssertLessThan(bcd(read(rtc, 4)), 24)
        write(rtc, 0x0c, 0xff)
        write(rtc, 0x0d, 0x00)
        XCTAssertEqual(rtc.errors.pending.suffix(2), [.readOnlyRegister(.rtc, register: 0x0c),
                                                     .readOnlyRegister(.rtc, register: 0x0d)])
        write(rtc, 0x0a, 0x46)
        XCTAssertEqual(rtc.errors.pending.last, .unsupportedCommand(.rtc, value: 0x46))
        XCTAssertEqual(rtc.portRead(0x71, size: 2), 0xffff)
        rtc.portWrite(0x72, size: 1, value: 0)
        XCTAssertEqual(rtc.errors.pending.last, .unsupportedAccess(.rtc, offset: 0x72, size: 1, write: true))
    }

    func testDeadlinesAreNeverInThePast() {
        var random = SeededGenerator(seed: 11)
        let rtc = CMOSRTC(lines: LineRecorder(), startTime: start)
        var time: UInt64 = 0
        for _ in 0..<3000 {
            switch Int.random(in: 0..<6, using: &random) {
            case 0: write(rtc, 0x0b, UInt8.random(in: 0...255, using: &random))
            case 1: write(rtc, 0x0a, UInt8.random(in: 0...0x7f, using: &random))
            case 2: _ = read(rtc, 0x0c)
            case 3: write(rtc, UInt8.random(in: 0...9, using: &random), UInt8.random(in: 0...255, using: &random))
            default: break
            }
            time += UInt64.random(in: 0...3_000_000, using: &random)
            rtc.advance(to: time)
            if let deadline = rtc.nextDeadline { XCTAssertGreaterThan(deadline, time) }
        }
    }
}
