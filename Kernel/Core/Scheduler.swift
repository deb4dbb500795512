import KernelABI

/// Ready queues: one FIFO of scheduling contexts per priority. The highest non-empty priority runs; within a
/// priority the head runs until its budget is used up, then goes to the tail (round robin).
///
/// Invariants: an SC is in at most one queue (its own priority's), exactly when `isQueued`.
struct Scheduler {
    static let maxPriority: UInt64 = 127
    private var queues = [[SchedulingContext]](repeating: [], count: Int(maxPriority) + 1)

    mutating func enqueue(_ sc: SchedulingContext) {
        guard !sc.isQueued, sc.isAlive else { return }
        sc.isQueued = true
        queues[Int(sc.priority)].append(sc)
    }

    mutating func remove(_ sc: SchedulingContext) {
        guard sc.isQueued else { return }
        sc.isQueued = false
        queues[Int(sc.priority)].removeAll { $0 === sc }
    }

    /// Moves `sc` to the tail of its queue.
    mutating func rotate(_ sc: SchedulingContext) {
        guard sc.isQueued else { return }
        queues[Int(sc.priority)].removeAll { $0 === sc }
        queues[Int(sc.priority)].append(sc)
    }

    /// The head of the highest-priority non-empty queue.
    var highest: SchedulingContext? {
        for queue in queues.reversed() where !queue.isEmpty { return queue[0] }
        return nil
    }

    /// Every queued SC, highest priority last (for the invariant checker).
    var queued: [SchedulingContext] {
        var all: [SchedulingContext] = []
        for queue in queues where !queue.isEmpty { all += queue }
        return all
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
    func bill(_ sc: SchedulingContext, ticks: UInt64) {
        sc.consumed &+= ticks
        if ticks >= sc.remaining {
            sc.remaining = sc.budget
            scheduler.rotate(sc)
        } else {
            sc.remaining -= ticks
        }
    }

    /// Makes `ec` ready and queues the SC it runs on.
    func wake(_ ec: ExecutionContext) {
        ec.state = .ready
        if let sc = ec.currentSC { scheduler.enqueue(sc) }
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
