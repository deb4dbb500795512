/// The one-shot timer of the kernel's `Platform`: a deadline in ticks of virtual time; it fires (once) when the
/// clock reaches it.
public struct SimTimer: Equatable, Sendable {
    public private(set) var deadline: UInt64?

    public init() {}

    public mutating func set(_ deadline: UInt64?) { self.deadline = deadline }

    /// True once the clock reached the deadline; the timer is disarmed by firing.
    public mutating func fire(at now: UInt64) -> Bool {
        guard let d = deadline, now >= d else { return false }
        deadline = nil
        return true
    }
}
