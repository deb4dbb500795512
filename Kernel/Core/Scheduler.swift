import KernelABI

/// Ready queues: one FIFO of scheduling contexts per priority. The highest non-empty priority runs; within a
/// priority the head runs until its budget is used up, then goes to the tail (round robin).
///
/// Invariants: an SC is in at most one queue (its own priority's), exactly when `isQueued`; bit `p` of
/// `nonEmpty` is set exactly when queue `p` is not empty (so `highest` finds the queue without scanning 128).
struct Scheduler {
    static let maxPriority: UInt64 = 127
    private var queues = [[SchedulingContext]](repeating: [], count: Int(maxPriority) + 1)
    /// One bit per priority: word 0 holds priorities 0-63, word 1 holds 64-127.
    private var nonEmpty: (UInt64, UInt64) = (0, 0)

    @_optimize(speed)
    mutating func enqueue(_ sc: SchedulingContext) {
        guard !sc.isQueued, sc.isAlive else { return }
        sc.isQueued = true
        queues[Int(sc.priority)].append(sc)
        markNonEmpty(sc.priority, true)
    }

    mutating func remove(_ sc: SchedulingContext) {
        guard sc.isQueued else { return }
        sc.isQueued = false
        let p = Int(sc.priority)
        queues[p].removeAll { $0 === sc }
        if queues[p].isEmpty { markNonEmpty(sc.priority, false) }
    }

    /// Moves `sc` to the tail of its queue.
    mutating func rotate(_ sc: SchedulingContext) {
        guard sc.isQueued, queues[Int(sc.priority)].count > 1 else { return }
        queues[Int(sc.priority)].removeAll { $0 === sc }
        queues[Int(sc.priority)].append(sc)
    }

    /// The head of the highest-priority non-empty queue.
    @_optimize(speed)
    var highest: SchedulingContext? {
        let (low, high) = nonEmpty
        if high != 0 { return queues[127 - high.leadingZeroBitCount][0] }
        if low != 0 { return queues[63 - low.leadingZeroBitCount][0] }
        return nil
    }

    /// Every queued SC, highest priority last (for the invariant checker).
    var queued: [SchedulingContext] {
        var all: [SchedulingContext] = []
        for queue in queues where !queue.isEmpty { all += queue }
        return all
    }

    /// Whether the non-empty bits agree with the queues (for the invariant checker).
    var bitmapAgreesWithQueues: Bool {
        (0...Self.maxPriority).allSatisfy { isMarkedNonEmpty($0) == !queues[Int($0)].isEmpty }
    }

    private func isMarkedNonEmpty(_ priority: UInt64) -> Bool {
        (priority < 64 ? nonEmpty.0 >> priority : nonEmpty.1 >> (priority - 64)) & 1 != 0
    }

    private mutating func markNonEmpty(_ priority: UInt64, _ value: Bool) {
        let bit: UInt64 = 1 << (priority & 63)
        if priority < 64 {
            nonEmpty.0 = value ? nonEmpty.0 | bit : nonEmpty.0 & ~bit
        } else {
            nonEmpty.1 = value ? nonEmpty.1 | bit : nonEmpty.1 & ~bit
        }
    }
}

extension Kernel {
    /// The SC to run and the EC at the end of its donation chain. SCs whose chain ends in a blocked EC leave the
    /// queue; `wake` puts them back.
    func pickNext() -> (SchedulingContext, ExecutionContext)? {
        while let sc = scheduler.highest {
            if let ec = sc.runningEC { return (sc, ec) }
            scheduler.remove(sc)
        }
        return nil
    }

    /// Bills `ticks` to `sc`; an exhausted budget is refilled and the SC goes to the back of its priority.
    /// Returns whether budget was left (false: it was used up and refilled).
    @discardableResult
    @_optimize(speed)
    func bill(_ sc: SchedulingContext, ticks: UInt64) -> Bool {
        sc.consumed &+= ticks
        if ticks >= sc.remaining {
            sc.remaining = sc.budget
            scheduler.rotate(sc)
            return false
        }
        sc.remaining -= ticks
        return true
    }

    /// Makes `ec` ready and queues the SC it runs on.
    @_optimize(speed) @inline(__always)
    func wake(_ ec: ExecutionContext) {
        ec.state = .ready
        // The SC is usually queued already (IPC on a running SC): then the scheduler is not touched at all.
        guard let link = ec.currentSCLink, !link.withObject({ $0.isQueued }) else { return }
        scheduler.enqueue(link.object)
    }

    /// Binds a new SC to a global EC; the EC can run from now on.
    func bind(_ sc: SchedulingContext, to ec: ExecutionContext) {
        ec.boundSC = sc
        var link: ExecutionContext? = ec
        while let next = link {
            if next.currentSC == nil { next.currentSC = sc }
            link = next.callee
        }
        scheduler.enqueue(sc)
    }

    /// Wakes ECs whose timed `down` expired, with `timeout` in rax.
    func wakeExpiredTimeouts() {
        guard !timeouts.isEmpty else { return }
        let now = platform.now
        let expired = timeouts.filter { $0.deadline <= now }
        guard !expired.isEmpty else { return }
        timeouts.removeAll { $0.deadline <= now }
        for entry in expired {
            let ec = entry.ec
            guard let sm = ec.blockedOn else { continue }
            sm.waiters.removeAll { $0 === ec }
            ec.blockedOn = nil
            finish(ec, .timeout)
            wake(ec)
        }
    }

    func cancelTimeout(_ ec: ExecutionContext) {
        timeouts.removeAll { $0.ec === ec }
    }
}
