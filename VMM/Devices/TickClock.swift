/// A clock of `hertz` ticks per second counted from virtual time 0, and the two conversions every timer model
/// needs, exact and without overflow: results saturate at UInt64.max, far beyond any VM's life (584 years of
/// nanoseconds). Only 64-bit arithmetic: a 128-bit division would need compiler-rt's __udivti3, which the
/// machine's freestanding runtime does not have.
struct TickClock {
    static let nanosecondsPerSecond: UInt64 = 1_000_000_000
    /// Frequencies are kept to 1 Hz ... 10 GHz, where the remainders below cannot overflow.
    static let maximumHertz: UInt64 = 10_000_000_000
    let hertz: UInt64

    init(hertz: UInt64) { self.hertz = min(max(hertz, 1), Self.maximumHertz) }

    /// Whole ticks elapsed at virtual time `nanoseconds`.
    func ticks(at nanoseconds: UInt64) -> UInt64 {
        Self.scale(nanoseconds, by: hertz, over: Self.nanosecondsPerSecond, roundingUp: false)
    }

    /// The first virtual time at which `tick` whole ticks have elapsed: `ticks(at: time(ofTick: t)) == t`, and any
    /// earlier time has fewer ticks, so a deadline computed with it is never early and never late.
    func time(ofTick tick: UInt64) -> UInt64 {
        Self.scale(tick, by: Self.nanosecondsPerSecond, over: hertz, roundingUp: true)
    }

    /// value * numerator / denominator, exactly: value = q * denominator + r, so the result is q * numerator +
    /// r * numerator / denominator, where r * numerator < denominator * numerator fits 64 bits for the factors
    /// used here (both at most 10^10). Saturates.
    static func scale(_ value: UInt64, by numerator: UInt64, over denominator: UInt64, roundingUp: Bool) -> UInt64 {
        let (quotient, remainder) = value.quotientAndRemainder(dividingBy: denominator)
        let whole = quotient.multipliedReportingOverflow(by: numerator)
        let part = remainder * numerator
        let partQuotient = part / denominator + (roundingUp && part % denominator != 0 ? 1 : 0)
        let sum = whole.partialValue.addingReportingOverflow(partQuotient)
        return whole.overflow || sum.overflow ? .max : sum.partialValue
    }
}
