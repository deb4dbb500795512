/// A counting semaphore; also where a device interrupt arrives (as an `up`).
///
/// Invariants: `count > 0` implies `waiters` is empty; every waiter is `.blocked` with `blockedOn === self`;
/// `irq != nil` only for the kernel's boot-time interrupt semaphores.
final class Semaphore {
    static let maxCount: UInt64 = 0xffff_ffff

    let id: UInt64
    var count: UInt64
    var waiters: [ExecutionContext] = []
    /// The interrupt line this semaphore stands for, and whether it was assigned (unmasked).
    let irq: UInt64?
    var interruptAssigned = false
    var isAlive = true
    let chargedTo: ProtectionDomain?

    init(id: UInt64, count: UInt64, irq: UInt64?, chargedTo: ProtectionDomain?) {
        self.id = id
        self.count = count
        self.irq = irq
        self.chargedTo = chargedTo
    }
}
