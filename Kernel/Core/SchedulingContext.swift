/// A scheduling context: a priority and a time budget, bound to one global EC. Through IPC its time is donated
/// along the call chain, so whatever EC is at the end of the chain runs (and is billed) on it.
///
/// Invariants: `0 < remaining <= budget` between scheduling decisions; `priority <= Scheduler.maxPriority`;
/// it is in the scheduler's queue for `priority` at most once, and only while alive.
final class SchedulingContext {
    let id: UInt64
    let ec: ExecutionContext
    let priority: UInt64
    let budget: UInt64
    var remaining: UInt64
    /// Total ticks consumed (ctrl_sc).
    var consumed: UInt64 = 0
    var isQueued = false
    var isAlive = true
    let chargedTo: ProtectionDomain?

    init(id: UInt64, ec: ExecutionContext, priority: UInt64, budget: UInt64, chargedTo: ProtectionDomain?) {
        self.id = id
        self.ec = ec
        self.priority = priority
        self.budget = budget
        self.remaining = budget
        self.chargedTo = chargedTo
    }

    /// The EC that runs on this SC now: follow the donation chain from the bound EC to the end of its calls.
    /// The walk follows links (no reference counting per step; Link.swift): every scheduling pass makes it.
    @_optimize(speed)
    var runningEC: ExecutionContext? {
        var link = Link(ec)
        while let next = link.withObject({ $0.calleeLink }) { link = next }
        let me = Link(self)
        return link.withObject { $0.isAlive && $0.state == .ready && $0.currentSCLink == me } ? link.object : nil
    }
}
