/// The local APIC timer, computed from time: it counts the APIC bus clock divided by the divide configuration,
/// down from the initial count, once (one-shot) or over and over (periodic). Ticks are absolute bus-clock ticks
/// since the VM began. (TSC-deadline mode does not exist: the CPUID model hides it.)
struct LocalAPICTimer {
    private(set) var initialCount: UInt32 = 0
    private(set) var divideConfiguration: UInt32 = 0
    private(set) var periodic = false
    /// Counting since bus tick `start` from `startCount` (the initial count, or where a reconfiguration took it
    /// up); nil when stopped (count 0 written, or a one-shot done).
    private var start: UInt64?
    private var startCount: UInt32 = 0

    /// Divide configuration bits 0, 1 and 3: 0b000 = 2, 0b001 = 4, ... 0b110 = 128, 0b111 = 1.
    var divisor: UInt64 {
        let code = divideConfiguration & 3 | (divideConfiguration >> 1) & 4
        return code == 7 ? 1 : 2 << UInt64(code)
    }

    func currentCount(at tick: UInt64) -> UInt32 {
        guard let start, initialCount != 0 else { return 0 }
        let counts = (tick &- start) / divisor
        if counts < UInt64(startCount) { return startCount - UInt32(counts) }
        guard periodic else { return 0 }
        // Zero reloads the initial count.
        return initialCount - UInt32((counts - UInt64(startCount)) % UInt64(initialCount))
    }

    /// The first bus tick after `tick` at which the count reaches zero.
    func nextExpiry(after tick: UInt64) -> UInt64? {
        guard let start, initialCount != 0 else { return nil }
        let first = UInt64(startCount).multipliedReportingOverflow(by: divisor)
        let period = UInt64(initialCount).multipliedReportingOverflow(by: divisor)
        guard !first.overflow, !period.overflow else { return nil }
        let firstExpiry = start &+ first.partialValue
        if tick < firstExpiry { return firstExpiry }
        guard periodic else { return nil }
        return firstExpiry &+ ((tick - firstExpiry) / period.partialValue &+ 1) &* period.partialValue
    }

    /// Whether the count reached zero in (from, to]; a finished one-shot stops.
    mutating func expired(from: UInt64, to: UInt64) -> Bool {
        guard let expiry = nextExpiry(after: from), expiry <= to else { return false }
        if !periodic { start = nil }
        return true
    }

    /// A write of the initial count starts counting from it (0 stops the timer).
    mutating func setInitialCount(_ value: UInt32, at tick: UInt64) {
        initialCount = value
        startCount = value
        start = value == 0 ? nil : tick
    }

    /// A new divide configuration or mode goes on from the current count, so a guest changing either mid-count
    /// sees no jump in the current count register.
    mutating func reconfigure(divideConfiguration: UInt32? = nil, periodic: Bool? = nil, at tick: UInt64) {
        let current = currentCount(at: tick)
        if let divideConfiguration { self.divideConfiguration = divideConfiguration & 0xb }
        if let periodic { self.periodic = periodic }
        guard start != nil else { return }
        if current == 0 { start = nil; return }
        start = tick
        startCount = current
    }

    /// Stops counting (hardware disable of the APIC).
    mutating func stop() {
        initialCount = 0
        start = nil
    }
}
