import KernelABI

/// Device interrupts: assign_int binds an interrupt to its boot-time semaphore, or releases it; an interrupt is an
/// `up` on it. Two kinds share one numbering (ABI.md "Interrupts"):
/// - lines (IOAPIC pins): assigning unmasks the line. An edge line is acknowledged at once. A level line stays
///   closed (not acknowledged, so the controller does not deliver it again) until its owner waits again:
///   `reopenInterrupt`, called by a down that finds the count at zero. Still asserted then, it interrupts again at
///   once, so nothing is lost.
/// - message interrupts (MSI/MSI-X): one vector each, fixed at boot; assigning returns the message (address, data)
///   the PCI driver writes into the device. With interrupt remapping the message names the interrupt's remapping
///   entry, present only while assigned and only for the device it was assigned for. Edge semantics: every message is one `up`, acknowledged by the platform
///   when it arrived; a message for an unassigned vector is dropped.
extension Kernel {
    /// assign_int(sm, irq, flags): `sm` must be the kernel's interrupt semaphore for interrupt number `irq`.
    /// Assigning unmasks a line or opens a message vector (`badState` while it is assigned: release it first;
    /// `badRange` when the machine has no such line or vector); a message interrupt's assignment returns its
    /// message in rdi (address) and rsi (data). `AssignFlags.release` ends the assignment (`releaseInterrupt`),
    /// also when there was none.
    ///
    /// A message interrupt is assigned for one device, `requester` (bus << 8 | device << 3 | function, < 2^16,
    /// else `badRange`): with interrupt remapping its entry admits that device's messages only, and the caller
    /// must own the device (`assign_dev` bound it to the caller's PD; the root, which decides bindings, may name
    /// any), else `insufficientRights`. Without interrupt remapping `requester` is checked for range and ignored.
    func assignInterrupt(by caller: ExecutionContext, sm selector: UInt64, irq: UInt64,
                         flags: UInt64, requester: UInt64) throws(Failure) -> Completion {
        let sm = try resolveSM(caller.pd, selector, needs: Permissions.smAssign)
        guard let number = sm.irq else { throw .badState }
        guard irq == number, flags & ~AssignFlags.release == 0 else { throw .badRange }
        if flags & AssignFlags.release != 0 {
            releaseInterrupt(sm)
            return .success
        }
        if RootSelectors.isMessage(number) {
            let index = number - RootSelectors.lineCount
            guard let message = platform.messageInterrupt(index), requester < 1 << 16 else { throw .badRange }
            guard !sm.interruptAssigned else { throw .badState }
            if platform.interruptRemapping {
                guard caller.pd === rootPD || deviceBindings[requester] === caller.pd else { throw .insufficientRights }
                platform.remapMessageInterrupt(index, requester: requester)
                sm.interruptRequester = requester
            }
            sm.interruptAssigned = true
            return .done(.success, message.address, message.data)
        }
        guard platform.interruptTrigger(number) != nil else { throw .badRange }
        guard !sm.interruptAssigned else { throw .badState }
        sm.interruptAssigned = true
        platform.unmaskInterrupt(number)
        return .success
    }

    /// Masks the line (a message vector: stops delivering it) and forgets everything its last owner left: a held
    /// level line is acknowledged (it stays masked), the count of interrupts nobody took is dropped, waiters return
    /// `aborted`. It can be assigned again.
    func releaseInterrupt(_ sm: Semaphore) {
        guard let number = sm.irq else { return }
        let isLine = !RootSelectors.isMessage(number)
        if sm.interruptAssigned {
            sm.interruptAssigned = false
            if isLine { platform.maskInterrupt(number) }
            if sm.interruptRequester != nil {
                // Not present again: a device that keeps the old message now faults instead of raising it.
                sm.interruptRequester = nil
                platform.remapMessageInterrupt(number - RootSelectors.lineCount, requester: nil)
            }
        }
        if sm.interruptHeld {
            sm.interruptHeld = false
            platform.endOfInterrupt(number)
        }
        sm.count = 0
        abortWaiters(of: sm)
    }

    /// A device interrupt: an `up` on its semaphore if one was assigned, then end-of-interrupt; a level line is
    /// held instead until its owner's next down. A message interrupt was acknowledged by the platform already.
    func deliverInterrupt(_ irq: UInt64) {
        statistics.interrupts += 1
        if RootSelectors.isMessage(irq) {
            let sm = messageSemaphores[Int(irq - RootSelectors.lineCount)]
            if sm.isAlive, sm.interruptAssigned {
                _ = up(sm) // at the count's limit the message is dropped: the driver has that many to take already
            } else {
                statistics.droppedMessages += 1
            }
            return
        }
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
