/// A clock of `hertz` ticks per second counted from virtual time 0, and the two conversions every timer model
/// needs. Products go through 128 bits, so no guest-chosen count overflows; results saturate at UInt64.max,
/// far beyond any VM's life (584 years of nanoseconds).
struct TickClock {
    static let nanosecondsPerSecond: UInt64 = 1_000_000_000
    let hertz: UInt64

    /// A clock of at least 1 Hz (a VMM configuring 0 gets 1 Hz rather than a division by zero).
    init(hertz: UInt64) { self.hertz = max(hertz, 1) }

    /// Whole ticks elapsed at virtual time `nanoseconds`.
    func ticks(at nanoseconds: UInt64) -> UInt64 {
        Self.scale(nanoseconds, by: hertz, over: Self.nanosecondsPerSecond, roundingUp: false)
    }

    /// The first virtual time at which `tick` whole ticks have elapsed: `ticks(at: time(ofTick: t)) == t`, and any
    /// earlier time has fewer ticks, so a deadline computed with it is never early and never late.
    func time(ofTick tick: UInt64) -> UInt64 {
        Self.scale(tick, by: Self.nanosecondsPerSecond, over: hertz, roundingUp: true)
    }

    /// value * numerator / denominator with a 128-bit intermediate, saturating; denominator > 0.
    static func scale(_ value: UInt64, by numerator: UInt64, over denominator: UInt64, roundingUp: Bool) -> UInt64 {
        let product = value.multipliedFullWidth(by: numerator)
        guard product.high < denominator else { return .max }
        let (quotient, remainder) = denominator.dividingFullWidth(product)
        if roundingUp && remainder != 0 { return quotient == .max ? .max : quotient + 1 }
        return quotient
    }
}
