/// A counting semaphore; also where a device interrupt arrives (as an `up`).
///
/// Invariants: `count > 0` implies `waiters` is empty; every waiter is `.blocked` with `blockedOn === self`;
/// `irq != nil` only for the kernel's boot-time interrupt semaphores, and then it is the semaphore's own interrupt
/// number (a line's, or `RootSelectors.lineCount + index` for message interrupt `index`); `interruptHeld` implies
/// `isAlive`, `interruptAssigned` and a level-triggered line (checked by the invariant checker): only an assigned
/// level line is held closed between its interrupt and its owner's next down, never a message interrupt (edge);
/// an assigned message interrupt is one the machine has. With interrupt remapping, a message interrupt's remapping
/// entry is present exactly while it is assigned, admitting `interruptRequester` only; without it, or for a line,
/// `interruptRequester` is nil.
final class Semaphore {
    static let maxCount: UInt64 = 0xffff_ffff

    let id: UInt64
    var count: UInt64
    var waiters: [ExecutionContext] = []
    /// The interrupt this semaphore stands for (a line, or a message interrupt: `RootSelectors.isMessage`), and
    /// whether it was assigned (a line unmasked; a message's vector delivered to this semaphore).
    let irq: UInt64?
    var interruptAssigned = false
    /// The device (requester ID) an assigned message interrupt was assigned for: its remapping entry admits only
    /// that device's messages (nil for lines, unassigned interrupts, and without interrupt remapping).
    var interruptRequester: UInt64?
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
