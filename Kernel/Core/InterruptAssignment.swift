import KernelABI

/// Device interrupts: assign_int binds a line to its boot-time semaphore and unmasks it; an interrupt is an `up` on it.
extension Kernel {
    /// assign_int(sm, irq): `sm` must be the kernel's interrupt semaphore for `irq`; unmasks the line.
    func assignInterrupt(by caller: ExecutionContext, sm selector: UInt64, irq: UInt64) throws(Failure) -> Completion {
        let sm = try resolveSM(caller.pd, selector, needs: Permissions.smAssign)
        guard let line = sm.irq else { throw .badState }
        guard irq == line else { throw .badRange }
        sm.interruptAssigned = true
        platform.unmaskInterrupt(line)
        return .success
    }

    /// A device interrupt: an `up` on its semaphore if one was assigned, then end-of-interrupt.
    func deliverInterrupt(_ irq: UInt64) {
        statistics.interrupts += 1
        if irq < UInt64(interruptSemaphores.count) {
            let sm = interruptSemaphores[Int(irq)]
            if sm.isAlive, sm.interruptAssigned { _ = up(sm) }
        }
        platform.endOfInterrupt(irq)
    }
}
