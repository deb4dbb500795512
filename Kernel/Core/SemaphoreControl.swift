import KernelABI

/// ctrl_sm: up, down and timed down on a semaphore (device interrupts arrive as an `up`, and a down that
/// finds nothing to take re-opens a held level line: InterruptAssignment.swift).
extension Kernel {
    /// ctrl_sm(sm, op, deadline): up, down, or down until the absolute tick `deadline`.
    func controlSM(by caller: ExecutionContext, sm selector: UInt64, operation: UInt64,
                   deadline: UInt64) throws(Failure) -> Completion {
        guard let op = SemaphoreOp(rawValue: operation) else {
            _ = try resolveSM(caller.pd, selector, needs: 0)
            throw .badRange
        }
        switch op {
        case .up:
            let sm = try resolveSM(caller.pd, selector, needs: Permissions.smUp)
            guard up(sm) else { throw .badRange }
            return .success
        case .down, .downTimed:
            let sm = try resolveSM(caller.pd, selector, needs: Permissions.smDown)
            if sm.count > 0 {
                sm.count -= 1
                return .success
            }
            // Nothing left to take: the owner of a level line has handled its interrupt and waits again.
            reopenInterrupt(sm)
            if op == .downTimed {
                guard deadline > platform.now else { return .done(.timeout, 0, 0) }
                timeouts.append((deadline: deadline, ec: caller))
            }
            caller.state = .blocked
            caller.blockedOn = sm
            sm.waiters.append(caller)
            return .blocked
        }
    }

    /// Wakes the first waiter or counts up. False when the count would pass `Semaphore.maxCount`.
    func up(_ sm: Semaphore) -> Bool {
        if !sm.waiters.isEmpty {
            let ec = sm.waiters.removeFirst()
            ec.blockedOn = nil
            cancelTimeout(ec)
            finish(ec, .success)
            wake(ec)
            return true
        }
        guard sm.count < Semaphore.maxCount else { return false }
        sm.count += 1
        return true
    }
}
