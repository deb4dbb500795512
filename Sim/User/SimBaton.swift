import Foundation

/// Exactly one of the kernel (holder 0) and the EC threads (holder = the thread's token) runs at any time: a
/// runner hands the baton to the next one and sleeps until it comes back. This makes the interleaving of host
/// threads a function of the simulation alone, so runs are deterministic.
final class SimBaton: @unchecked Sendable {
    static let kernel: UInt64 = 0
    private let condition = NSCondition()
    private var holder: UInt64 = SimBaton.kernel

    /// Gives the baton to `next` and blocks until `me` holds it again.
    func handOff(from me: UInt64, to next: UInt64) {
        condition.lock()
        holder = next
        condition.broadcast()
        while holder != me { condition.wait() }
        condition.unlock()
    }

    /// Gives the baton away for good (the caller is a thread that ends).
    func release(to next: UInt64) {
        condition.lock()
        holder = next
        condition.broadcast()
        condition.unlock()
    }

    /// Blocks until `me` holds the baton (a new thread before its first run).
    func wait(for me: UInt64) {
        condition.lock()
        while holder != me { condition.wait() }
        condition.unlock()
    }
}
