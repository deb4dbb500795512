/// One counter of the 8254, computed from time instead of stepped: the counter value and OUT at any tick follow
/// from where counting started. Ticks are absolute counts of the PIT's 1.193182 MHz clock since the VM began.
/// Simplification: a count is loaded at the tick it is written, not one clock later.
struct PIT8254Channel {
    enum Access: UInt8 { case low = 1, high = 2, lowHigh = 3 }

    /// What the counting element is doing.
    enum Phase: Equatable {
        /// Not counting: OUT holds `output`, the counter reads `value` (after a control word, before a trigger).
        case idle(output: Bool, value: UInt32)
        /// Modes 0 and 4 with the gate low: counting suspended at `value`.
        case suspended(value: UInt32, terminalPassed: Bool)
        /// Modes 0, 1, 4, 5: counting down from `value` since `start`; `terminalPassed` once OUT went through the
        /// terminal count in an earlier stretch (then no further edge comes).
        case counting(start: UInt64, value: UInt32, terminalPassed: Bool)
        /// Modes 2 and 3: periods of `period` clocks since `start`, OUT rising at each period's end.
        case periodic(start: UInt64, period: UInt32)
    }

    let index: Int
    private(set) var modeBits: UInt8 = 0      // as written (6 and 7 are modes 2 and 3)
    private(set) var bcd = false
    private(set) var access = Access.lowHigh
    private(set) var gate: Bool
    /// The count register: the last count written, 1...modulus (0 is written as the modulus).
    private(set) var count: UInt32 = 0x10000
    private(set) var phase = Phase.idle(output: false, value: 0)
    /// Modes 2 and 3: a count written while running takes over at the end of the current period, at this tick.
    private var reloadAt: UInt64?
    private var nullCount = true
    private var lowByteWritten: UInt8?
    private var readHighNext = false
    private var latchedCount: UInt16?
    private var latchedHighNext = false
    private var latchedStatus: UInt8?

    init(index: Int, gate: Bool) {
        self.index = index
        self.gate = gate
    }

    /// The operating mode 0-5.
    var mode: UInt8 { modeBits >= 6 ? modeBits - 4 : modeBits }
    var modulus: UInt32 { bcd ? 10_000 : 0x10000 }

    // MARK: time

    /// The phase in effect at `tick` (a pending reload counts once its tick is reached).
    private func phase(at tick: UInt64) -> Phase {
        if let reloadAt, tick >= reloadAt { return .periodic(start: reloadAt, period: count) }
        return phase
    }

    /// Makes a pending reload that `tick` reached the current phase.
    mutating func settle(at tick: UInt64) {
        if let reloadAt, tick >= reloadAt {
            phase = .periodic(start: reloadAt, period: count)
            self.reloadAt = nil
        }
    }

    func output(at tick: UInt64) -> Bool {
        switch phase(at: tick) {
        case .idle(let output, _): return output
        case .suspended(let value, let passed): return mode == 4 ? passed || value != 0 : passed
        case .counting(let start, let value, let passed):
            let elapsed = tick &- start
            if passed { return true }
            // Modes 0 and 1 rise at the terminal count and stay high; 4 and 5 strobe low for that one clock.
            return mode == 0 || mode == 1 ? elapsed >= UInt64(value) : elapsed != UInt64(value)
        case .periodic(let start, let period):
            guard period > 1 else { return true }
            let position = (tick &- start) % UInt64(period)
            // Mode 2 is low for the last clock of the period; mode 3 is high for the first half (rounded up).
            return mode == 2 ? position != UInt64(period) - 1 : position < (UInt64(period) + 1) / 2
        }
    }

    /// The counting element at `tick`, 0..<modulus (binary).
    func value(at tick: UInt64) -> UInt32 {
        let modulus = UInt64(self.modulus)
        switch phase(at: tick) {
        case .idle(_, let value), .suspended(let value, _): return UInt32(UInt64(value) % modulus)
        case .counting(let start, let value, _):
            let elapsed = (tick &- start) % modulus
            return UInt32((UInt64(value) + modulus - elapsed) % modulus)
        case .periodic(let start, let period):
            let period = UInt64(period)
            let position = (tick &- start) % period
            if mode == 2 { return UInt32((period - position) % modulus) }
            // Mode 3 counts down by two through each half period.
            let half = (period + 1) / 2
            let inHalf = position < half ? position : position - half
            return UInt32((period &- 2 &* inHalf) % modulus) & ~1
        }
    }

    /// Whether the terminal count went by at `tick` (modes 0, 1, 4, 5).
    private func terminalPassed(at tick: UInt64) -> Bool {
        guard case .counting(let start, let value, let passed) = phase(at: tick) else { return false }
        let elapsed = tick &- start
        return passed || (mode == 0 || mode == 1 ? elapsed >= UInt64(value) : elapsed > UInt64(value))
    }

    /// The first tick after `tick` at which OUT rises, or nil when it stays as it is.
    func nextRisingEdge(after tick: UInt64) -> UInt64? {
        switch phase(at: tick) {
        case .idle, .suspended: return nil
        case .counting(let start, let value, let passed):
            guard !passed else { return nil }
            let edge = start &+ UInt64(value) &+ (mode == 0 || mode == 1 ? 0 : 1)
            return edge > tick ? edge : nil
        case .periodic(let start, let period):
            let period = UInt64(max(period, 1))
            return start &+ ((tick &- start) / period &+ 1) &* period
        }
    }

    /// Whether OUT rose in (from, to], and settles the channel at `to`.
    mutating func advance(from: UInt64, to: UInt64) -> Bool {
        var rose = false
        var from = from
        if let reloadAt, reloadAt <= to {
            // The old period ends at the reload tick with a rising edge of its own.
            if reloadAt > from { rose = true }
            settle(at: reloadAt)
            from = max(from, reloadAt)
        }
        if let edge = nextRisingEdge(after: from), edge <= to { rose = true }
        settle(at: to)
        return rose
    }

    // MARK: programming

    /// A control word for this channel (access bits non-zero): mode and access set, counting stops until a count
    /// is written, OUT goes to the mode's initial level (low in mode 0, high otherwise).
    mutating func writeControl(_ value: UInt8) {
        access = Access(rawValue: value >> 4 & 3) ?? .lowHigh
        modeBits = value >> 1 & 7
        bcd = value & 1 != 0
        phase = .idle(output: mode != 0, value: 0)
        reloadAt = nil
        nullCount = true
        lowByteWritten = nil
        readHighNext = false
        latchedCount = nil
        latchedStatus = nil
    }

    /// The counter latch command: the value at `tick` is held for reading (a second latch before it is read is
    /// ignored, as on the chip).
    mutating func latchCount(at tick: UInt64) {
        guard latchedCount == nil else { return }
        latchedCount = encoded(value(at: tick))
        latchedHighNext = false
    }

    /// The read-back command's status latch: OUT, null count, and the programmed access, mode and BCD bits.
    mutating func latchStatus(at tick: UInt64) {
        guard latchedStatus == nil else { return }
        latchedStatus = (output(at: tick) ? 0x80 : 0) | (nullCount ? 0x40 : 0) | access.rawValue << 4
            | modeBits << 1 | (bcd ? 1 : 0)
    }

    mutating func read(at tick: UInt64) -> UInt8 {
        if let status = latchedStatus {
            latchedStatus = nil
            return status
        }
        if let latched = latchedCount {
            switch access {
            case .low: latchedCount = nil; return UInt8(truncatingIfNeeded: latched)
            case .high: latchedCount = nil; return UInt8(truncatingIfNeeded: latched >> 8)
            case .lowHigh:
                if latchedHighNext { latchedCount = nil; return UInt8(truncatingIfNeeded: latched >> 8) }
                latchedHighNext = true
                return UInt8(truncatingIfNeeded: latched)
            }
        }
        let live = encoded(value(at: tick))
        switch access {
        case .low: return UInt8(truncatingIfNeeded: live)
        case .high: return UInt8(truncatingIfNeeded: live >> 8)
        case .lowHigh:
            readHighNext.toggle()
            return UInt8(truncatingIfNeeded: readHighNext ? live : live >> 8)
        }
    }

    /// A byte written to the counter's port. Returns an error to record, if the count is one the 8254 calls
    /// illegal (the channel still runs it).
    mutating func write(_ byte: UInt8, at tick: UInt64) -> DeviceProgrammingError? {
        settle(at: tick)
        let raw: UInt16
        switch access {
        case .low: raw = UInt16(byte)
        case .high: raw = UInt16(byte) << 8
        case .lowHigh:
            guard let low = lowByteWritten else {
                lowByteWritten = byte
                // Mode 0 stops counting at the first byte of a new count, OUT low.
                if mode == 0 { phase = .idle(output: false, value: value(at: tick)) }
                return nil
            }
            lowByteWritten = nil
            raw = UInt16(byte) << 8 | UInt16(low)
        }
        var error: DeviceProgrammingError?
        var decoded = UInt32(raw)
        if bcd {
            let digits = [raw & 0xf, raw >> 4 & 0xf, raw >> 8 & 0xf, raw >> 12 & 0xf]
            if digits.contains(where: { $0 > 9 }) { error = .illegalCount(channel: index, mode: Int(mode), count: decoded) }
            decoded = (UInt32(digits[0]) + 10 * UInt32(digits[1]) + 100 * UInt32(digits[2]) + 1000 * UInt32(digits[3]))
                % modulus
        }
        count = decoded == 0 ? modulus : decoded
        if count == 1 && (mode == 2 || mode == 3) {
            error = .illegalCount(channel: index, mode: Int(mode), count: 1)
        }
        load(at: tick)
        return error
    }

    /// A complete count arrived: what happens depends on the mode.
    private mutating func load(at tick: UInt64) {
        nullCount = false
        switch mode {
        case 0, 4:
            phase = gate ? .counting(start: tick, value: count, terminalPassed: false)
                : .suspended(value: count, terminalPassed: false)
        case 1, 5:
            break  // waits for a rising gate
        default:
            if case .periodic = phase {
                reloadAt = nextRisingEdge(after: tick)
            } else if gate {
                phase = .periodic(start: tick, period: count)
            }
        }
    }

    /// The gate input (only channel 2's is wired, to port 0x61 bit 0).
    mutating func setGate(_ high: Bool, at tick: UInt64) {
        settle(at: tick)
        defer { gate = high }
        guard high != gate else { return }
        switch mode {
        case 0, 4:
            if high, case .suspended(let value, let passed) = phase {
                phase = .counting(start: tick, value: value, terminalPassed: passed)
            } else if !high, case .counting = phase {
                phase = .suspended(value: value(at: tick), terminalPassed: terminalPassed(at: tick))
            }
        case 1, 5:
            if high && !nullCount { phase = .counting(start: tick, value: count, terminalPassed: false) }
        default:
            if high && !nullCount {
                phase = .periodic(start: tick, period: count)
                reloadAt = nil
            } else if !high, case .periodic = phase {
                // Gate low stops the count and forces OUT high; the next rising gate reloads.
                phase = .idle(output: true, value: value(at: tick))
                reloadAt = nil
            }
        }
    }

    /// `value` as the chip presents it: binary, or four BCD digits.
    private func encoded(_ value: UInt32) -> UInt16 {
        guard bcd else { return UInt16(truncatingIfNeeded: value) }
        let v = value % 10_000
        return UInt16(v % 10 | (v / 10 % 10) << 4 | (v / 100 % 10) << 8 | (v / 1000) << 12)
    }
}
