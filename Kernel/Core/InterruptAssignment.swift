import KernelABI

/// Device interrupts: assign_int binds a line to its boot-time semaphore and unmasks it, or releases it; an
/// interrupt is an `up` on it. An edge line is acknowledged at once. A level line stays closed (not acknowledged,
/// so the controller does not deliver it again) until its owner waits again: `reopenInterrupt`, called by a down
/// that finds the count at zero. Still asserted then, it interrupts again at once, so nothing is lost.
extension Kernel {
    /// assign_int(sm, irq, flags): `sm` must be the kernel's interrupt semaphore for `irq`. Assigning unmasks the
    /// line (`badState` while it is assigned: release it first; `badRange` when the machine has no such line);
    /// `AssignFlags.release` ends the assignment (`releaseInterrupt`), also when there was none.
    func assignInterrupt(by caller: ExecutionContext, sm selector: UInt64, irq: UInt64,
                         flags: UInt64) throws(Failure) -> Completion {
        let sm = try resolveSM(caller.pd, selector, needs: Permissions.smAssign)
        guard let line = sm.irq else { throw .badState }
        guard irq == line, flags & ~AssignFlags.release == 0 else { throw .badRange }
        if flags & AssignFlags.release != 0 {
            releaseInterrupt(sm)
            return .success
        }
        guard platform.interruptTrigger(line) != nil else { throw .badRange }
        guard !sm.interruptAssigned else { throw .badState }
        sm.interruptAssigned = true
        platform.unmaskInterrupt(line)
        return .success
    }

    /// Masks the line and forgets everything its last owner left: a held level line is acknowledged (it stays
    /// masked), the count of interrupts nobody took is dropped, waiters return `aborted`. It can be assigned again.
    func releaseInterrupt(_ sm: Semaphore) {
        guard let irq = sm.irq else { return }
        if sm.interruptAssigned {
            sm.interruptAssigned = false
            platform.maskInterrupt(irq)
        }
        if sm.interruptHeld {
            sm.interruptHeld = false
            platform.endOfInterrupt(irq)
        }
        sm.count = 0
        abortWaiters(of: sm)
    }

    /// A device interrupt: an `up` on its semaphore if one was assigned, then end-of-interrupt; a level line is
    /// held instead until its owner's next down.
    func deliverInterrupt(_ irq: UInt64) {
        statistics.interrupts += 1
        if irq < UInt64(interruptSemaphores.count) {
            let sm = interruptSemaphores[Int(irq)]
            if sm.isAlive, sm.interruptAssigned {
                _ = up(sm)
                if platform.interruptTrigger(irq) == .level {
                    sm.interruptHeld = true
                    return
                }
            }
        }
        platform.endOfInterrupt(irq)
    }

    /// The owner of a held level line waits again (a down found the count at zero): acknowledge the line so it
    /// can interrupt again, at once if the device still asserts it.
    func reopenInterrupt(_ sm: Semaphore) {
        guard sm.interruptHeld, let irq = sm.irq else { return }
        sm.interruptHeld = false
        platform.endOfInterrupt(irq)
    }
}
