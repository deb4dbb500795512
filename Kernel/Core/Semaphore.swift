/// A counting semaphore; also where a device interrupt arrives (as an `up`).
///
/// Invariants: `count > 0` implies `waiters` is empty; every waiter is `.blocked` with `blockedOn === self`;
/// `irq != nil` only for the kernel's boot-time interrupt semaphores, and then it is the semaphore's own interrupt
/// number (a line's, or `RootSelectors.lineCount + index` for message interrupt `index`); `interruptHeld` implies
/// `isAlive`, `interruptAssigned` and a level-triggered line (checked by the invariant checker): only an assigned
/// level line is held closed between its interrupt and its owner's next down, never a message interrupt (edge);
/// an assigned message interrupt is one the machine has.
final class Semaphore {
    static let maxCount: UInt64 = 0xffff_ffff

    let id: UInt64
    var count: UInt64
    var waiters: [ExecutionContext] = []
    /// The interrupt this semaphore stands for (a line, or a message interrupt: `RootSelectors.isMessage`), and
    /// whether it was assigned (a line unmasked; a message's vector delivered to this semaphore).
    let irq: UInt64?
    var interruptAssigned = false
    /// A level-triggered line that interrupted and stays closed (not acknowledged) until a down finds the count at
    /// zero, i.e. the driver has handled what it was woken for and waits again (SemaphoreControl.swift).
    var interruptHeld = false
    var isAlive = true
    let chargedTo: ProtectionDomain?

    init(id: UInt64, count: UInt64, irq: UInt64?, chargedTo: ProtectionDomain?) {
        self.id = id
        self.count = count
        self.irq = irq
        self.chargedTo = chargedTo
    }
}
