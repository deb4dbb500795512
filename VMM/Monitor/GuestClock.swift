/// The devices' virtual nanoseconds from the platform's timestamp (the TSC on the image, virtual ticks in the
/// simulator), counted from the VM's creation: `ticksPerMillisecond` is the start info's rate. Both conversions
/// split the value so no intermediate product overflows 64 bits (a 128-bit division would need compiler-rt).
struct GuestClock {
    let start: UInt64
    let ticksPerMillisecond: UInt64

    /// Nanoseconds at timestamp `now` (0 before the start).
    func nanoseconds(at now: UInt64) -> UInt64 {
        let ticks = now &- start
        guard now >= start, ticksPerMillisecond > 0 else { return 0 }
        let (milliseconds, rest) = ticks.quotientAndRemainder(dividingBy: ticksPerMillisecond)
        let (whole, overflow) = milliseconds.multipliedReportingOverflow(by: 1_000_000)
        return overflow ? .max : whole &+ rest * 1_000_000 / ticksPerMillisecond
    }

    /// The first timestamp at which `nanoseconds(at:)` reaches `nanoseconds` (saturating).
    func timestamp(at nanoseconds: UInt64) -> UInt64 {
        let (milliseconds, rest) = nanoseconds.quotientAndRemainder(dividingBy: 1_000_000)
        let (whole, overflow) = milliseconds.multipliedReportingOverflow(by: ticksPerMillisecond)
        let part = (rest * ticksPerMillisecond + 999_999) / 1_000_000
        let (sum, carry) = whole.addingReportingOverflow(part)
        let (at, late) = sum.addingReportingOverflow(start)
        return overflow || carry || late ? .max : at
    }
}
