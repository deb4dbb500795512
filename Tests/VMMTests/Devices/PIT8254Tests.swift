import XCTest
@testable import DeviceModels

final class PIT8254Tests: XCTestCase {
    private let pitHz: UInt64 = 1_193_182
    /// Linux's PIT_LATCH for HZ=250: (PIT_TICK_RATE + HZ/2) / HZ.
    private let latch250: UInt32 = (1_193_182 + 125) / 250

    private func out(_ pit: PIT8254, _ port: UInt16, _ value: UInt32) { pit.portWrite(port, size: 1, value: value) }
    private func inb(_ pit: PIT8254, _ port: UInt16) -> UInt8 { UInt8(pit.portRead(port, size: 1)) }
    private func nanoseconds(ofTick tick: UInt64) -> UInt64 { (tick * 1_000_000_000 + pitHz - 1) / pitHz }

    /// pit_set_periodic: binary, mode 2, LSB/MSB, channel 0.
    private func linuxPeriodic(_ pit: PIT8254) {
        out(pit, 0x43, 0x34)
        out(pit, 0x40, latch250 & 0xff)
        out(pit, 0x40, latch250 >> 8)
    }

    /// Advances from deadline to deadline up to `end`, checking each deadline lies ahead.
    private func run(_ pit: PIT8254, until end: UInt64) {
        while let deadline = pit.nextDeadline, deadline <= end {
            XCTAssertGreaterThan(deadline, pit.now)
            pit.advance(to: deadline)
        }
        pit.advance(to: end)
    }

    func testLinuxPeriodicHZ250RaisesIRQ0At250PerSecond() {
        let lines = LineRecorder()
        let pit = PIT8254(lines: lines)
        linuxPeriodic(pit)
        XCTAssertTrue(pit.errors.pending.isEmpty)
        XCTAssertEqual(lines.edges(0), 1, "the control word raised OUT from its power-on low")
        XCTAssertEqual(pit.nextDeadline, nanoseconds(ofTick: UInt64(latch250)))
        run(pit, until: 1_000_000_000)
        // 4773 clocks are 4.000228 ms: the 250th period ends 57 µs after the first second.
        XCTAssertEqual(lines.edges(0) - 1, 249)
        run(pit, until: 100_000_000_000)
        XCTAssertEqual(lines.edges(0) - 1, Int(100 * pitHz / UInt64(latch250)))
        XCTAssertEqual(Double(lines.edges(0) - 1) / 100, 250, accuracy: 0.1)
        XCTAssertTrue(lines.level(0), "mode 2's OUT is high between its one-clock low pulses")
    }

    func testCoarseAdvanceRaisesOneEdgeAndKeepsTheRhythm() {
        let lines = LineRecorder()
        let pit = PIT8254(lines: lines)
        linuxPeriodic(pit)
        pit.advance(to: 10_000_000)   // 2.5 periods late: the latch of the PIC/IOAPIC would hold one anyway
        XCTAssertEqual(lines.edges(0), 2, "the programming edge and one for the periods gone by")
        XCTAssertEqual(pit.nextDeadline, nanoseconds(ofTick: 3 * UInt64(latch250)), "the next edge stays on the grid")
    }

    func testLinuxOneShotUsesMode4() {
        let lines = LineRecorder()
        let pit = PIT8254(lines: lines)
        out(pit, 0x43, 0x38)        // pit_set_oneshot
        XCTAssertNil(pit.nextDeadline)
        out(pit, 0x40, 1000 & 0xff) // pit_next_event(1000)
        out(pit, 0x40, 1000 >> 8)
        // Mode 4 strobes OUT low for one clock at the terminal count; the rising edge ends the strobe.
        XCTAssertEqual(pit.nextDeadline, nanoseconds(ofTick: 1001))
        pit.advance(to: nanoseconds(ofTick: 1000))
        XCTAssertFalse(pit.output(ofChannel: 0))
        XCTAssertEqual(lines.edges(0), 1, "the control word raised OUT from its power-on low")
        pit.advance(to: nanoseconds(ofTick: 1001))
        XCTAssertEqual(lines.edges(0), 2)
        XCTAssertNil(pit.nextDeadline, "one shot only")
        pit.advance(to: nanoseconds(ofTick: 500_000))
        XCTAssertEqual(lines.edges(0), 2)
        // The next event re-arms it from now.
        out(pit, 0x40, 0x10)
        out(pit, 0x40, 0x00)
        XCTAssertEqual(pit.nextDeadline, nanoseconds(ofTick: 500_000 + 17))
    }

    func testMode0InterruptOnTerminalCount() {
        let lines = LineRecorder()
        let pit = PIT8254(lines: lines)
        out(pit, 0x43, 0x30)
        out(pit, 0x40, 0x00)
        XCTAssertEqual(pit.counter(ofChannel: 0), 0, "counting stopped at the first byte")
        out(pit, 0x40, 0x10)        // 0x1000
        XCTAssertFalse(lines.level(0))
        pit.advance(to: nanoseconds(ofTick: 0x0fff))
        XCTAssertEqual(pit.counter(ofChannel: 0), 1)
        XCTAssertFalse(pit.output(ofChannel: 0))
        pit.advance(to: nanoseconds(ofTick: 0x1000))
        XCTAssertTrue(lines.level(0))
        XCTAssertEqual(lines.edges(0), 1)
        pit.advance(to: nanoseconds(ofTick: 0x1005))
        XCTAssertEqual(pit.counter(ofChannel: 0), 0xfffb, "the counter wraps on after the terminal count")
        XCTAssertTrue(pit.output(ofChannel: 0))
        XCTAssertNil(pit.nextDeadline)
    }

    func testLinuxShutdownStopsTheCounter() {
        let lines = LineRecorder()
        let pit = PIT8254(lines: lines)
        linuxPeriodic(pit)
        pit.advance(to: 1_000_000)
        // clockevent_i8253_disable: mode 0, count 0 (= 65536), mode 0 again.
        out(pit, 0x43, 0x30)
        out(pit, 0x40, 0)
        out(pit, 0x40, 0)
        XCTAssertEqual(pit.nextDeadline, nanoseconds(ofTick: pitHz * pit.now / 1_000_000_000 + 65_536),
                       "count 0 is 65536")
        out(pit, 0x43, 0x30)
        XCTAssertNil(pit.nextDeadline)
        pit.advance(to: 1_000_000_000)
        XCTAssertEqual(lines.edges(0), 1, "only the one of the first control word")
        XCTAssertFalse(lines.level(0))
    }

    func testCountZeroIs65536InMode2() {
        let pit = PIT8254(lines: LineRecorder())
        out(pit, 0x43, 0x34)
        out(pit, 0x40, 0)
        out(pit, 0x40, 0)
        XCTAssertEqual(pit.nextDeadline, nanoseconds(ofTick: 65_536))
        XCTAssertEqual(pit.counter(ofChannel: 0), 0)
        pit.advance(to: nanoseconds(ofTick: 1))
        XCTAssertEqual(pit.counter(ofChannel: 0), 65_535)
    }

    func testLatchedReadAsLinuxClocksourceDoes() {
        let pit = PIT8254(lines: LineRecorder())
        linuxPeriodic(pit)
        pit.advance(to: nanoseconds(ofTick: 1000))
        out(pit, 0x43, 0x00)   // latch channel 0
        pit.advance(to: nanoseconds(ofTick: 2000))
        let count = UInt32(inb(pit, 0x40)) | UInt32(inb(pit, 0x40)) << 8
        XCTAssertEqual(count, latch250 - 1000, "the latched value, not the live one")
        let live = UInt32(inb(pit, 0x40)) | UInt32(inb(pit, 0x40)) << 8
        XCTAssertEqual(live, latch250 - 2000)
    }

    func testLatchIsNotReplacedBeforeItIsRead() {
        let pit = PIT8254(lines: LineRecorder())
        linuxPeriodic(pit)
        pit.advance(to: nanoseconds(ofTick: 10))
        out(pit, 0x43, 0x00)
        pit.advance(to: nanoseconds(ofTick: 20))
        out(pit, 0x43, 0x00)
        XCTAssertEqual(UInt32(inb(pit, 0x40)) | UInt32(inb(pit, 0x40)) << 8, latch250 - 10)
    }

    func testReadBackStatusAndCount() {
        let pit = PIT8254(lines: LineRecorder())
        out(pit, 0x43, 0xb6)   // channel 2, lobyte/hibyte, mode 3, binary
        XCTAssertEqual(pit.errors.pending, [])
        out(pit, 0x43, 0xc8)   // read-back: count and status of channel 2
        XCTAssertEqual(inb(pit, 0x42), 0xf6, "OUT high, null count, lobyte/hibyte, mode 3, binary")
        XCTAssertEqual(inb(pit, 0x42), 0x00, "then the latched count, low byte...")
        XCTAssertEqual(inb(pit, 0x42), 0x00, "...and high byte")
        out(pit, 0x42, 0x00)
        out(pit, 0x42, 0x01)
        out(pit, 0x43, 0xe8)   // status only
        XCTAssertEqual(inb(pit, 0x42), 0xb6, "count written: no null count; the gate is low, so it waits")
        XCTAssertEqual(pit.counter(ofChannel: 2), 0)
        XCTAssertNil(pit.nextDeadline, "channel 2 drives no interrupt")
    }

    func testStatusByteReportsOutputAndNullCount() {
        let pit = PIT8254(lines: LineRecorder())
        out(pit, 0x43, 0x30)
        out(pit, 0x43, 0xe2)   // status of channel 0
        XCTAssertEqual(inb(pit, 0x40), 0x70, "OUT low, null count, lobyte/hibyte, mode 0")
        out(pit, 0x40, 5)
        out(pit, 0x40, 0)
        pit.advance(to: nanoseconds(ofTick: 5))
        out(pit, 0x43, 0xe2)
        XCTAssertEqual(inb(pit, 0x40), 0xb0, "OUT high after the terminal count, count loaded")
    }

    func testChannel2CalibrationLoopAsPitCalibrateTSC() {
        let pit = PIT8254(lines: LineRecorder())
        let port61 = SystemControlPort(pit: pit)
        let start: UInt64 = 3_000_000
        pit.advance(to: start)
        // Gate high, speaker off; channel 2 mode 0 with CAL_LATCH (10 ms).
        port61.portWrite(0x61, size: 1, value: port61.portRead(0x61, size: 1) & ~0x02 | 0x01)
        out(pit, 0x43, 0xb0)
        let calLatch: UInt32 = 1_193_182 / 100
        out(pit, 0x42, calLatch & 0xff)
        out(pit, 0x42, calLatch >> 8)
        var time = start
        while port61.portRead(0x61, size: 1) & 0x20 == 0 {
            time += 1000   // the guest's loop reads the port once per microsecond
            pit.advance(to: time)
            XCTAssertLessThan(time, start + 20_000_000)
        }
        let expected = nanoseconds(ofTick: pitHz * start / 1_000_000_000 + UInt64(calLatch))
        XCTAssertLessThanOrEqual(time - expected, 1000, "OUT rises at the terminal count, to the microsecond")
        XCTAssertGreaterThanOrEqual(time, expected)
        XCTAssertEqual(Double(time - start) / 1e6, 10, accuracy: 0.01)
    }

    func testQuickPitCalibrateSeesTheMSBFollowTime() {
        let pit = PIT8254(lines: LineRecorder())
        let port61 = SystemControlPort(pit: pit)
        port61.portWrite(0x61, size: 1, value: 0x01)
        out(pit, 0x43, 0xb0)
        out(pit, 0x42, 0xff)
        out(pit, 0x42, 0xff)
        for tick: UInt64 in [1, 255, 256, 257, 1000, 30_000, 65_534] {
            pit.advance(to: nanoseconds(ofTick: tick))
            _ = inb(pit, 0x42)    // pit_verify_msb: the LSB is ignored...
            XCTAssertEqual(inb(pit, 0x42), UInt8((0xffff - tick) >> 8), "...the MSB at tick \(tick)")
        }
    }

    func testUnlatchedLowHighReadsAlternate() {
        let pit = PIT8254(lines: LineRecorder())
        out(pit, 0x43, 0x34)
        out(pit, 0x40, 0x34)
        out(pit, 0x40, 0x12)
        XCTAssertEqual(inb(pit, 0x40), 0x34)
        XCTAssertEqual(inb(pit, 0x40), 0x12)
        out(pit, 0x43, 0x24)   // high byte only
        out(pit, 0x40, 0x02)
        XCTAssertEqual(pit.nextDeadline, nanoseconds(ofTick: 0x200))
        XCTAssertEqual(inb(pit, 0x40), 0x02)
        XCTAssertEqual(inb(pit, 0x40), 0x02)
    }

    func testGateSuspendsMode0AndRestartsMode2() {
        let pit = PIT8254(lines: LineRecorder())
        let port61 = SystemControlPort(pit: pit)
        port61.portWrite(0x61, size: 1, value: 0x01)
        out(pit, 0x43, 0xb0)
        out(pit, 0x42, 100)
        out(pit, 0x42, 0)
        pit.advance(to: nanoseconds(ofTick: 40))
        port61.portWrite(0x61, size: 1, value: 0x00)
        pit.advance(to: nanoseconds(ofTick: 1000))
        XCTAssertEqual(pit.counter(ofChannel: 2), 60, "suspended while the gate is low")
        port61.portWrite(0x61, size: 1, value: 0x01)
        pit.advance(to: nanoseconds(ofTick: 1059))
        XCTAssertFalse(pit.channel2Output)
        pit.advance(to: nanoseconds(ofTick: 1060))
        XCTAssertTrue(pit.channel2Output)
        // Mode 2: gate low forces OUT high and stops; the rising gate reloads.
        out(pit, 0x43, 0xb4)
        out(pit, 0x42, 50)
        out(pit, 0x42, 0)
        pit.advance(to: nanoseconds(ofTick: 1080))
        XCTAssertEqual(pit.counter(ofChannel: 2), 30)
        port61.portWrite(0x61, size: 1, value: 0x00)
        XCTAssertTrue(pit.channel2Output)
        pit.advance(to: nanoseconds(ofTick: 2000))
        port61.portWrite(0x61, size: 1, value: 0x01)
        XCTAssertEqual(pit.counter(ofChannel: 2), 50, "the rising gate reloaded the count")
        pit.advance(to: nanoseconds(ofTick: 2010))
        XCTAssertEqual(pit.counter(ofChannel: 2), 40)
    }

    func testMode1And5AreTriggeredByTheGate() {
        let pit = PIT8254(lines: LineRecorder())
        let port61 = SystemControlPort(pit: pit)
        out(pit, 0x43, 0xb2)   // channel 2 mode 1
        out(pit, 0x42, 10)
        out(pit, 0x42, 0)
        XCTAssertTrue(pit.channel2Output)
        pit.advance(to: nanoseconds(ofTick: 100))
        XCTAssertTrue(pit.channel2Output, "nothing before the trigger")
        port61.portWrite(0x61, size: 1, value: 0x01)
        XCTAssertFalse(pit.channel2Output, "the trigger starts the one-shot, OUT low")
        pit.advance(to: nanoseconds(ofTick: 110))
        XCTAssertTrue(pit.channel2Output)
        out(pit, 0x43, 0xba)   // mode 5: a strobe after the trigger
        out(pit, 0x42, 10)
        out(pit, 0x42, 0)
        port61.portWrite(0x61, size: 1, value: 0x00)
        port61.portWrite(0x61, size: 1, value: 0x01)
        pit.advance(to: nanoseconds(ofTick: 120))
        XCTAssertFalse(pit.channel2Output)
        pit.advance(to: nanoseconds(ofTick: 121))
        XCTAssertTrue(pit.channel2Output)
    }

    func testMode3SquareWave() {
        let lines = LineRecorder()
        let pit = PIT8254(lines: lines)
        out(pit, 0x43, 0x36)
        out(pit, 0x40, 100)
        out(pit, 0x40, 0)
        pit.advance(to: nanoseconds(ofTick: 49))
        XCTAssertTrue(lines.level(0))
        XCTAssertEqual(pit.counter(ofChannel: 0), 2, "counting by two")
        pit.advance(to: nanoseconds(ofTick: 50))
        XCTAssertFalse(lines.level(0), "the second half is low")
        XCTAssertEqual(pit.nextDeadline, nanoseconds(ofTick: 100))
        pit.advance(to: nanoseconds(ofTick: 100))
        XCTAssertTrue(lines.level(0))
        XCTAssertEqual(lines.edges(0), 2, "the control word's and one per period")
    }

    func testNewPeriodicCountTakesOverAtThePeriodEnd() {
        let pit = PIT8254(lines: LineRecorder())
        out(pit, 0x43, 0x34)
        out(pit, 0x40, 100)
        out(pit, 0x40, 0)
        pit.advance(to: nanoseconds(ofTick: 30))
        out(pit, 0x40, 10)
        out(pit, 0x40, 0)
        XCTAssertEqual(pit.counter(ofChannel: 0), 70, "the current period runs on")
        XCTAssertEqual(pit.nextDeadline, nanoseconds(ofTick: 100))
        pit.advance(to: nanoseconds(ofTick: 100))
        XCTAssertEqual(pit.nextDeadline, nanoseconds(ofTick: 110))
        pit.advance(to: nanoseconds(ofTick: 105))
        XCTAssertEqual(pit.counter(ofChannel: 0), 5)
    }

    func testBCDCounting() {
        let pit = PIT8254(lines: LineRecorder())
        out(pit, 0x43, 0x35)   // mode 2, BCD
        out(pit, 0x40, 0x00)
        out(pit, 0x40, 0x10)   // BCD 1000
        XCTAssertEqual(pit.nextDeadline, nanoseconds(ofTick: 1000))
        pit.advance(to: nanoseconds(ofTick: 1))
        XCTAssertEqual(inb(pit, 0x40), 0x99)
        XCTAssertEqual(inb(pit, 0x40), 0x09, "999 in BCD")
        out(pit, 0x40, 0x00)
        out(pit, 0x40, 0x00)   // BCD 0 is 10000
        pit.advance(to: nanoseconds(ofTick: 1000))
        XCTAssertEqual(pit.nextDeadline, nanoseconds(ofTick: 11_000))
    }

    func testBadProgrammingGetsTheChipsBehaviourAndAnError() {
        let lines = LineRecorder()
        let pit = PIT8254(lines: lines)
        out(pit, 0x43, 0x34)
        out(pit, 0x40, 1)
        out(pit, 0x40, 0)     // count 1 in mode 2: illegal
        XCTAssertEqual(pit.errors.pending, [.illegalCount(channel: 0, mode: 2, count: 1)])
        XCTAssertEqual(pit.nextDeadline, nanoseconds(ofTick: 1), "runs with a period of one clock")
        pit.advance(to: 1_000_000)
        XCTAssertEqual(pit.nextDeadline.map { $0 > pit.now }, true)
        out(pit, 0x43, 0x31)  // BCD mode 0
        out(pit, 0x40, 0xff)
        out(pit, 0x40, 0xff)
        XCTAssertEqual(pit.errors.pending.last, .illegalCount(channel: 0, mode: 0, count: 0xffff))
        XCTAssertEqual(pit.portRead(0x43, size: 1), 0xff, "the control register is write-only")
        XCTAssertEqual(pit.portRead(0x40, size: 2), 0xffff)
        pit.portWrite(0x40, size: 4, value: 0x1234_5678)
        pit.portWrite(0x44, size: 1, value: 0)
        XCTAssertEqual(pit.errors.pending.count, 6)
        pit.advance(to: 10)   // time never runs backwards
        XCTAssertEqual(pit.now, 1_000_000)
    }

    func testDeadlinesAreNeverInThePast() {
        var random = SeededGenerator(seed: 7)
        let pit = PIT8254(lines: LineRecorder())
        var time: UInt64 = 0
        for _ in 0..<2000 {
            if Int.random(in: 0..<4, using: &random) == 0 {
                out(pit, 0x43, UInt32(Int.random(in: 0..<4, using: &random) << 6 | 0x30
                                      | Int.random(in: 0..<6, using: &random) << 1))
                out(pit, UInt16.random(in: 0x40...0x42, using: &random), UInt32.random(in: 0...255, using: &random))
                out(pit, UInt16.random(in: 0x40...0x42, using: &random), UInt32.random(in: 0...255, using: &random))
            }
            time += UInt64.random(in: 0...200_000, using: &random)
            pit.advance(to: time)
            if let deadline = pit.nextDeadline { XCTAssertGreaterThan(deadline, time) }
        }
    }
}
