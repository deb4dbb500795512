/// The 8254 programmable interval timer at ports 0x40-0x43, clocked at 1.193182 MHz. Channel 0's OUT drives ISA
/// IRQ 0 through `InterruptLines` (a rising edge per period, which is what the edge-triggered PIC and IOAPIC pin
/// latch); channel 1 counts but drives nothing; channel 2's gate and OUT are bits 0 and 5 of port 0x61
/// (`SystemControlPort`), which Linux uses to calibrate the TSC, so reads follow virtual time exactly.
///
/// Time: the VMM calls `advance(to:)` with the exit's virtual time before dispatching an access; reads and
/// writes happen at the time of the last advance.
public final class PIT8254: PortIODevice, TimedDevice {
    public static let channel0: UInt16 = 0x40
    public static let channel2: UInt16 = 0x42
    public static let control: UInt16 = 0x43
    public static let ports: ClosedRange<UInt16> = 0x40...0x43
    public static let hertz: UInt64 = 1_193_182
    public static let irq = 0

    private let clock = TickClock(hertz: PIT8254.hertz)
    private let lines: any InterruptLines
    private var channels = [PIT8254Channel(index: 0, gate: true), PIT8254Channel(index: 1, gate: true),
                            PIT8254Channel(index: 2, gate: false)]
    /// The virtual time of the last advance, and the PIT clock at it.
    public private(set) var now: UInt64 = 0
    private var tick: UInt64 = 0
    /// The level last driven on IRQ 0: channel 0's OUT, low at power-on like the line's receivers (so a control
    /// word for modes 1-5 raises OUT, and IRQ 0, as on the chip).
    private var line0High = false
    public var errors = DeviceErrorLog()

    public init(lines: any InterruptLines) { self.lines = lines }

    // MARK: TimedDevice

    public func advance(to time: UInt64) {
        guard time > now else { return }  // virtual time never runs backwards
        now = time
        let newTick = clock.ticks(at: time)
        guard newTick > tick else { return }
        let rose = channels[0].advance(from: tick, to: newTick)
        channels[1].settle(at: newTick)
        channels[2].settle(at: newTick)
        tick = newTick
        if rose {
            if line0High { lines.setLevel(line: Self.irq, high: false) }
            lines.setLevel(line: Self.irq, high: true)
            line0High = true
        }
        driveLine0()
    }

    /// The next rising edge of channel 0's OUT (the next IRQ 0), or nil when none is coming.
    public var nextDeadline: UInt64? {
        channels[0].nextRisingEdge(after: tick).map { clock.time(ofTick: $0) }
    }

    /// IRQ 0 follows channel 0's OUT (a control word or count write can move it at once, as on the chip).
    private func driveLine0() {
        let out = channels[0].output(at: tick)
        guard out != line0High else { return }
        line0High = out
        lines.setLevel(line: Self.irq, high: out)
    }

    // MARK: channel 2 (port 0x61)

    public var channel2Gate: Bool { channels[2].gate }
    public var channel2Output: Bool { channels[2].output(at: tick) }
    public func setChannel2Gate(_ high: Bool) { channels[2].setGate(high, at: tick) }

    /// OUT and the counting element of `channel` (0-2) now, for the VMM's diagnostics and tests.
    public func output(ofChannel channel: Int) -> Bool { channels[channel % 3].output(at: tick) }
    public func counter(ofChannel channel: Int) -> UInt32 { channels[channel % 3].value(at: tick) }

    // MARK: PortIODevice

    public func portRead(_ port: UInt16, size: Int) -> UInt32 {
        guard size == 1, port >= Self.channel0 && port < Self.control else {
            // The control word register is write-only: its reads float like undecoded ones.
            errors.record(.unsupportedAccess(.pit, offset: UInt64(port), size: size, write: false))
            return allOnes(size)
        }
        return UInt32(channels[Int(port - Self.channel0)].read(at: tick))
    }

    public func portWrite(_ port: UInt16, size: Int, value: UInt32) {
        guard size == 1, Self.ports.contains(port) else {
            errors.record(.unsupportedAccess(.pit, offset: UInt64(port), size: size, write: true))
            return
        }
        let byte = UInt8(truncatingIfNeeded: value)
        if port == Self.control {
            writeControl(byte)
        } else if let error = channels[Int(port - Self.channel0)].write(byte, at: tick) {
            errors.record(error)
        }
        driveLine0()
    }

    /// Port 0x43: a control word, the counter latch command (access bits 00), or the read-back command (select 11).
    private func writeControl(_ value: UInt8) {
        let select = Int(value >> 6)
        guard select < 3 else {
            // Read-back: bit 5 clear latches counts, bit 4 clear latches status, bits 1-3 select channels 0-2.
            for channel in 0..<3 where value & (2 << UInt8(channel)) != 0 {
                if value & 0x10 == 0 { channels[channel].latchStatus(at: tick) }
                if value & 0x20 == 0 { channels[channel].latchCount(at: tick) }
            }
            return
        }
        if value & 0x30 == 0 { channels[select].latchCount(at: tick) } else { channels[select].writeControl(value) }
    }
}
