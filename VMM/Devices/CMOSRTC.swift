/// The MC146818-compatible real-time clock and CMOS RAM at ports 0x70 (index; bit 7 masks NMI) and 0x71 (data).
/// Its time is the wall-clock time given at creation plus virtual time: the divider chain runs at 32.768 kHz of
/// virtual time and the clock ticks at its second boundaries. Time and date read in BCD or binary, 12- or 24-hour,
/// as register B says; the century is register 0x32 (what the FADT's century field names). Update-in-progress is
/// set for the 244 µs + 1984 µs before each update; SET holds the registers for the guest to write; the divider
/// reset (register A bits 6-4 = 11x) stops the clock, and the first update comes half a second after it ends.
/// Periodic, alarm and update-ended flags are kept in register C and raise IRQ 8 when enabled in register B,
/// held until register C is read.
///
/// Simplification: time registers present the running time in the current format, so changing register B's
/// format bits converts them (the chip would show the old bytes until they are rewritten); while SET is on,
/// the held bytes are the guest's own.
public final class CMOSRTC: PortIODevice, TimedDevice {
    public static let indexPort: UInt16 = 0x70
    public static let dataPort: UInt16 = 0x71
    public static let irq = 8
    public static let centuryRegister: UInt8 = 0x32
    static let registerA: UInt8 = 0x0a
    static let registerB: UInt8 = 0x0b
    static let registerC: UInt8 = 0x0c
    static let registerD: UInt8 = 0x0d
    /// Time and date registers: seconds, minutes, hours, weekday, day, month, year, century.
    static let timeRegisters: [UInt8] = [0, 2, 4, 6, 7, 8, 9, 0x32]

    // Register B bits.
    static let set: UInt8 = 0x80
    static let periodicEnable: UInt8 = 0x40
    static let alarmEnable: UInt8 = 0x20
    static let updateEnable: UInt8 = 0x10
    static let binary: UInt8 = 0x04
    static let hour24: UInt8 = 0x02

    static let cyclesPerSecond: UInt64 = 32_768
    /// Update-in-progress lasts 244 µs before the update cycle and its 1984 µs: 73 cycles of 32.768 kHz.
    static let updateInProgressCycles: UInt64 = 73
    /// The span the clock covers: years 0 to 9999 (two BCD digits of century, two of year).
    static let earliest = CalendarTime(year: 0, month: 1, day: 1, hour: 0, minute: 0, second: 0).secondsSinceEpoch
    static let latest = CalendarTime(year: 9999, month: 12, day: 31, hour: 23, minute: 59, second: 59).secondsSinceEpoch

    private let lines: any InterruptLines
    private var ram = [UInt8](repeating: 0, count: 128)
    private var index: UInt8 = 0
    /// Port 0x70 bit 7: NMI sources of the chipset masked (the VMM has none to mask, but reports it).
    public private(set) var nmiMasked = false

    private let divider = TickClock(hertz: CMOSRTC.cyclesPerSecond)
    private var now: UInt64 = 0
    /// The divider chain counts `cycleOffset` cycles at virtual time `origin` and runs from there, or is stopped.
    private var origin: UInt64 = 0
    private var cycleOffset: UInt64 = 0
    private var dividerRunning = true
    /// The clock read `baseSeconds` when the divider had made `baseUpdates` updates.
    private var baseSeconds: Int64
    private var baseUpdates: UInt64 = 0
    /// The weekday register counts on its own: the guest's value minus the date's weekday (mod 7).
    private var weekdayOffset = 0
    /// The time registers while SET holds them, indexed like `timeRegisters`.
    private var held: [UInt8]?
    private var flags: UInt8 = 0
    private var flagsSettled: UInt64 = 0
    private var lineHigh = false
    public var errors = DeviceErrorLog()

    /// An RTC showing `startTime` (seconds since 1970-01-01 00:00:00, UTC or local as the VMM chooses) at
    /// virtual time 0, in BCD 24-hour mode with the 1024 Hz periodic rate selected, as PC firmware leaves it.
    public init(lines: any InterruptLines, startTime: Int64) {
        self.lines = lines
        baseSeconds = min(max(startTime, Self.earliest), Self.latest)
        ram[Int(Self.registerA)] = 0x26
        ram[Int(Self.registerB)] = Self.hour24
    }

    /// Presets a CMOS RAM byte (0x0e-0x7f except the century) as firmware would; false for other indexes.
    @discardableResult
    public func setRAM(_ index: UInt8, _ value: UInt8) -> Bool {
        guard index >= 0x0e && index < 0x80 && index != Self.centuryRegister else { return false }
        ram[Int(index)] = value
        return true
    }

    // MARK: the clock

    private var control: UInt8 { ram[Int(Self.registerB)] }

    private func cycles(at time: UInt64) -> UInt64 {
        guard dividerRunning else { return cycleOffset }
        return cycleOffset &+ divider.ticks(at: time &- origin)
    }

    private func updates(at time: UInt64) -> UInt64 { cycles(at: time) / Self.cyclesPerSecond }

    /// The virtual time at which the divider reaches `cycle` (> the cycles at `now`).
    private func time(ofCycle cycle: UInt64) -> UInt64 { origin &+ divider.time(ofTick: cycle &- cycleOffset) }

    private func seconds(afterUpdates updateCount: UInt64) -> Int64 {
        let elapsed = Int64(truncatingIfNeeded: min(updateCount &- baseUpdates, UInt64(Int64.max / 2)))
        let seconds = baseSeconds &+ elapsed
        let span = Self.latest - Self.earliest + 1
        return seconds > Self.latest ? Self.earliest + (seconds - Self.earliest) % span : seconds
    }

    /// The running time now, as seconds.
    private var currentSeconds: Int64 { seconds(afterUpdates: updates(at: now)) }

    /// Takes the running time as the new base (before the divider or the base changes).
    private func rebase() {
        if held == nil { baseSeconds = currentSeconds }
        baseUpdates = updates(at: now)
    }

    private func startDivider() {
        rebase()
        origin = now
        cycleOffset = Self.cyclesPerSecond / 2  // the first update half a second after the reset ends
        dividerRunning = true
        baseUpdates = updates(at: now)
    }

    private func stopDivider() {
        rebase()
        cycleOffset = cycles(at: now)
        dividerRunning = false
    }

    // MARK: register formats

    private func encode(_ value: Int) -> UInt8 {
        let v = UInt8(truncatingIfNeeded: value)
        return control & Self.binary != 0 ? v : (v / 10) << 4 | v % 10
    }

    private func encodeHour(_ hour: Int) -> UInt8 {
        guard control & Self.hour24 == 0 else { return encode(hour) }
        let twelve = hour % 12 == 0 ? 12 : hour % 12
        return encode(twelve) | (hour >= 12 ? 0x80 : 0)
    }

    /// The time registers for `seconds`, indexed like `timeRegisters`.
    private func registers(for seconds: Int64) -> [UInt8] {
        let t = CalendarTime(secondsSinceEpoch: seconds)
        let weekday = (t.weekday + weekdayOffset) % 7 + 1
        return [encode(t.second), encode(t.minute), encodeHour(t.hour), encode(weekday), encode(t.day),
                encode(t.month), encode(t.year % 100), encode(t.year / 100)]
    }

    /// The value of register `register` in the current format, taken modulo `range` (and recorded) when the
    /// guest wrote something outside it or a BCD digit above 9.
    private func decode(_ raw: UInt8, register: UInt8, range: ClosedRange<Int>) -> Int {
        let binary = control & Self.binary != 0
        let value = binary ? Int(raw) : Int(raw >> 4) * 10 + Int(raw & 0xf)
        let validBCD = binary || (raw >> 4 <= 9 && raw & 0xf <= 9)
        guard !validBCD || !range.contains(value) else { return value }
        errors.record(.invalidTimeValue(register: register, value: raw))
        return range.lowerBound + (value - range.lowerBound + range.count * 64) % range.count
    }

    /// Sets the clock from time registers the guest wrote.
    private func setTime(from registers: [UInt8]) {
        let second = decode(registers[0], register: 0, range: 0...59)
        let minute = decode(registers[1], register: 2, range: 0...59)
        var hour: Int
        if control & Self.hour24 != 0 {
            hour = decode(registers[2], register: 4, range: 0...23)
        } else {
            hour = decode(registers[2] & 0x7f, register: 4, range: 1...12) % 12
            if registers[2] & 0x80 != 0 { hour += 12 }
        }
        let weekday = decode(registers[3], register: 6, range: 1...7)
        let month = decode(registers[5], register: 8, range: 1...12)
        let year = decode(registers[7], register: Self.centuryRegister, range: 0...99) * 100
            + decode(registers[6], register: 9, range: 0...99)
        var day = decode(registers[4], register: 7, range: 1...31)
        let lastDay = CalendarTime.daysInMonth(year: year, month: month)
        if day > lastDay {
            errors.record(.invalidTimeValue(register: 7, value: registers[4]))
            day = lastDay
        }
        let date = CalendarTime(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        weekdayOffset = ((weekday - 1 - date.weekday) % 7 + 7) % 7
        baseSeconds = date.secondsSinceEpoch
        baseUpdates = updates(at: now)
    }

    // MARK: flags and IRQ 8

    private var periodicCycles: UInt64? {
        switch ram[Int(Self.registerA)] & 0x0f {
        case 0: return nil
        case 1: return 128
        case 2: return 256
        case let rate: return 1 << UInt64(rate - 1)
        }
    }

    private var updating: Bool { dividerRunning && control & Self.set == 0 }

    /// Sets register C's flags for everything that happened up to `time`: periodic ticks, updates, and updates
    /// that matched the alarm (a byte of 0xc0-0xff in an alarm register matches anything).
    private func settleFlags(to time: UInt64) {
        let from = flagsSettled
        guard time > from else { return }
        flagsSettled = time
        guard dividerRunning else { return }
        let (start, end) = (cycles(at: from), cycles(at: time))
        if let period = periodicCycles, end / period > start / period { flags |= 0x40 }
        guard updating else { return }
        let (first, last) = (start / Self.cyclesPerSecond, end / Self.cyclesPerSecond)
        guard last > first else { return }
        flags |= 0x10
        if alarmMatched(afterUpdate: first, updates: last - first) { flags |= 0x20 }
    }

    /// Whether one of the `count` updates after update `first` showed a time of day the alarm registers match.
    /// The updates cover consecutive seconds, so this asks whether a matching time of day lies in that range.
    private func alarmMatched(afterUpdate first: UInt64, updates count: UInt64) -> Bool {
        let day: Int64 = 86_400
        let firstSecond = CalendarTime.floorModulo(seconds(afterUpdates: first &+ 1), day)
        let span = Int64(min(count, UInt64(day)))
        let hours = control & Self.hour24 != 0 ? alarmValues(ram[5], range: 0...23) : alarmHours12(ram[5])
        let minutes = alarmValues(ram[3], range: 0...59)
        let seconds = alarmValues(ram[1], range: 0...59)
        // All three don't-care: every second matches (and the loops below stay within 3600 combinations).
        if hours.count * minutes.count * seconds.count == Int(day) { return span > 0 }
        for hour in hours {
            for minute in minutes {
                for second in seconds {
                    let timeOfDay = Int64(hour * 3600 + minute * 60 + second)
                    if CalendarTime.floorModulo(timeOfDay - firstSecond, day) < span { return true }
                }
            }
        }
        return false
    }

    /// The values an alarm byte matches: all of `range` for a don't-care byte (0xc0-0xff), the value it encodes
    /// in the current format, or none when it encodes nothing valid.
    private func alarmValues(_ byte: UInt8, range: ClosedRange<Int>) -> [Int] {
        if byte >= 0xc0 { return Array(range) }
        let binary = control & Self.binary != 0
        guard binary || (byte >> 4 <= 9 && byte & 0xf <= 9) else { return [] }
        let value = binary ? Int(byte) : Int(byte >> 4) * 10 + Int(byte & 0xf)
        return range.contains(value) ? [value] : []
    }

    private func alarmHours12(_ byte: UInt8) -> [Int] {
        if byte >= 0xc0 { return Array(0...23) }
        return alarmValues(byte & 0x7f, range: 1...12).map { $0 % 12 + (byte & 0x80 != 0 ? 12 : 0) }
    }

    private func driveLine() {
        let request = flags & control & 0x70 != 0
        guard request != lineHigh else { return }
        lineHigh = request
        lines.setLevel(line: Self.irq, high: request)
    }

    // MARK: TimedDevice

    public func advance(to time: UInt64) {
        guard time > now else { return }
        now = time
        settleFlags(to: time)
        driveLine()
    }

    /// The next periodic tick or update that an enabled interrupt waits for, while IRQ 8 is not already raised.
    public var nextDeadline: UInt64? {
        guard !lineHigh && dividerRunning else { return nil }
        let current = cycles(at: now)
        var deadline: UInt64?
        if control & Self.periodicEnable != 0, let period = periodicCycles {
            deadline = time(ofCycle: (current / period + 1) * period)
        }
        if control & (Self.updateEnable | Self.alarmEnable) != 0 && updating {
            let update = time(ofCycle: (current / Self.cyclesPerSecond + 1) * Self.cyclesPerSecond)
            deadline = min(deadline ?? update, update)
        }
        return deadline
    }

    // MARK: registers

    private func readRegister(_ register: UInt8) -> UInt8 {
        if let slot = Self.timeRegisters.firstIndex(of: register) {
            return (held ?? registers(for: currentSeconds))[slot]
        }
        switch register {
        case Self.registerA:
            let inProgress = updating
                && cycles(at: now) % Self.cyclesPerSecond >= Self.cyclesPerSecond - Self.updateInProgressCycles
            return ram[Int(Self.registerA)] & 0x7f | (inProgress ? 0x80 : 0)
        case Self.registerC:
            let value = flags | (flags & control & 0x70 != 0 ? 0x80 : 0)
            flags = 0
            driveLine()
            return value
        case Self.registerD:
            return 0x80  // valid RAM and time: the battery is fine
        default:
            return ram[Int(register)]
        }
    }

    private func writeRegister(_ register: UInt8, _ value: UInt8) {
        if let slot = Self.timeRegisters.firstIndex(of: register) {
            if held != nil {
                held?[slot] = value
            } else {
                var current = registers(for: currentSeconds)
                current[slot] = value
                setTime(from: current)
            }
            return
        }
        switch register {
        case Self.registerA:
            let divider = value & 0x70
            let runs = divider <= 0x20
            if divider >= 0x30 && divider <= 0x50 { errors.record(.unsupportedCommand(.rtc, value: value)) }
            if runs && !dividerRunning { startDivider() } else if !runs && dividerRunning { stopDivider() }
            ram[Int(Self.registerA)] = value & 0x7f
        case Self.registerB:
            var value = value
            if value & Self.set != 0 && held == nil {
                held = registers(for: currentSeconds)
                value &= ~Self.updateEnable  // SET clears UIE
            }
            ram[Int(Self.registerB)] = value
            if value & Self.set == 0, let registers = held {
                held = nil
                setTime(from: registers)
            }
            driveLine()
        case Self.registerC, Self.registerD:
            errors.record(.readOnlyRegister(.rtc, register: UInt64(register)))
        default:
            ram[Int(register)] = value
        }
    }

    // MARK: PortIODevice

    public func portRead(_ port: UInt16, size: Int) -> UInt32 {
        guard size == 1, port == Self.indexPort || port == Self.dataPort else {
            errors.record(.unsupportedAccess(.rtc, offset: UInt64(port), size: size, write: false))
            return allOnes(size)
        }
        // The index register is write-only on PC chipsets: its reads float.
        return port == Self.indexPort ? 0xff : UInt32(readRegister(index))
    }

    public func portWrite(_ port: UInt16, size: Int, value: UInt32) {
        guard size == 1, port == Self.indexPort || port == Self.dataPort else {
            errors.record(.unsupportedAccess(.rtc, offset: UInt64(port), size: size, write: true))
            return
        }
        let byte = UInt8(truncatingIfNeeded: value)
        if port == Self.indexPort {
            index = byte & 0x7f
            nmiMasked = byte & 0x80 != 0
        } else {
            writeRegister(index, byte)
        }
    }
}
