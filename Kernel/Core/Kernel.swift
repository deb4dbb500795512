import BootFormat
import KernelABI

/// The kernel: boots from a `BootConfiguration`, then loops `step()`: run the EC the scheduler picks until it exits,
/// handle the exit. All of the kernel's state lives here (no globals), so several simulated machines can coexist.
///
/// The logic is split by concern into extensions: Boot, Scheduling, ExitHandling, Hypercalls, ObjectCreation, IPC,
/// Delegation, Revocation, Destruction, InvariantChecker.
public final class Kernel<P: Platform> {
    let platform: P
    let configuration: BootConfiguration
    /// Frames for page tables and UTCBs. Object memory is accounted against quotas in pages as well.
    var frames = FrameAllocator(ranges: [])
    var scheduler = Scheduler()
    /// The kernel's PML4 (slot 0 only) and the PDPT every address space shares as its slot 0.
    var kernelRoot: UInt64 = 0
    var kernelPDPT: UInt64 = 0
    /// Frames of the kernel's own identity map (never freed).
    var kernelMapFrames: [UInt64] = []
    var rootPD: ProtectionDomain?
    var rootEC: ExecutionContext?
    /// Live objects, for destruction and the invariant checker.
    var protectionDomains: [ProtectionDomain] = []
    var executionContexts: [ExecutionContext] = []
    var interruptSemaphores: [Semaphore] = []
    /// Message interrupt `index`'s semaphore at `messageSemaphores[index]` (interrupt number lineCount + index).
    var messageSemaphores: [Semaphore] = []
    /// Which PD each bound PCI device's DMA reaches, by requester ID (DeviceAssignment.swift).
    var deviceBindings: [UInt64: ProtectionDomain] = [:]
    /// ECs in a timed `down`, with their deadlines.
    var timeouts: [(deadline: UInt64, ec: ExecutionContext)] = []
    var nextObjectID: UInt64 = 1
    /// The memory the root PD holds in its physical window (reported in RootBootInfo).
    var rootWindow: [PhysicalRange] = []
    public internal(set) var statistics = KernelStatistics()
    /// Set when a handler that became idle took a queued caller (IPC.serveQueuedCallers): that caller's SC may
    /// outrank the one running, so runOnce's fast path hands the choice back to the scheduler.
    var servedQueuedCaller = false
    /// Tagged-TLB IDs of the VM PDs.
    var guestTags: GuestTagAllocator

    public init(platform: P, configuration: BootConfiguration) throws(BootError) {
        self.platform = platform
        self.configuration = configuration
        guestTags = GuestTagAllocator(count: platform.guestTagCount)
        try boot()
    }

    /// The kernel loop on the image: never returns. When nothing can run it idles waiting for interrupts.
    public func run() -> Never {
        while true {
            if !step() { handle(platform.idle(), from: nil) }
        }
    }

    /// One scheduling decision: run the chosen EC until it exits and handle the exit, or idle until an interrupt or
    /// timeout if nothing is ready. Returns false when nothing is ready and nothing (no timeout, no assigned interrupt
    /// with a waiter) could ever make anything ready again.
    public func step() -> Bool {
        statistics.steps += 1
        wakeExpiredTimeouts()
        if let (sc, ec) = pickNext() {
            runOnce(ec, on: sc)
            return true
        }
        guard canStillWake else { return false }
        platform.setTimer(deadline: earliestTimeout)
        handle(platform.idle(), from: nil)
        return true
    }

    /// Runs `ec` on `sc` until it exits, bills the time, and handles the exit. When the exit was IPC the fast path
    /// took (IPCFastPath.swift), the EC that continues on `sc` is entered at once: IPC on one SC leaves the ready
    /// queues as they were (`sc`, picked as the head of the highest queue, stays queued there) and the EC it hands
    /// over to runs on `sc`, so the scheduler would pick the same pair; only a used-up budget sends the decision
    /// back to it. The timer is set once: the fast path adds no timeout, and the time between entries (the fast
    /// path's) is billed to `sc` too, so the deadline armed at the start stays exactly its budget's end.
    @_optimize(speed)
    func runOnce(_ first: ExecutionContext, on sc: SchedulingContext) {
        servedQueuedCaller = false
        var start = platform.now
        var deadline = start &+ sc.remaining
        if let earliest = earliestTimeout, earliest < deadline { deadline = earliest }
        platform.setTimer(deadline: deadline)
        // `first` is held by the caller; the ECs the fast path hands over to are live (executionContexts holds
        // them) and nothing here destroys one, so they are used without retaining. The general path may destroy
        // the EC, so it gets a strong reference.
        var current = Link(first)
        // Tests may run an SC that is not the highest; the fast path must keep whatever the scheduler decided.
        let pickedAsHighest = scheduler.highest === sc
        var slices = 0
        while true {
            if current.withObject({ $0.startupPending || $0.recallPending }), raisePendingEvents(current.object) {
                return
            }
            if let vcpu = current.withObject({ $0.vcpuLink }), let problem = vcpu.withObject({ entryProblem($0) }) {
                refuseEntry(current.object, problem)
                return
            }
            let exit = current.withObject { enter($0) }
            let end = platform.now
            let budgetLeft = bill(sc, ticks: end &- start)
            let next: Link<ExecutionContext>?
            switch exit {
            case .hypercall: next = current.withObject { fastIPC(from: $0) }
            case .guest: next = current.withObject { fastGuestExit($0) }
            case .timer:
                // The timer ended a slice, and the scheduler would choose this SC and EC again: go on with a new
                // deadline instead of a scheduling pass (what step would do, without its walk).
                // At most `maxSlicesInARow` in a row: step's caller (the simulator's clock loop) regains control.
                if pickedAsHighest, slices < Self.maxSlicesInARow, wouldPickAgain(current, on: sc, at: end) {
                    slices &+= 1
                    statistics.exits &+= 1
                    statistics.timerExits &+= 1
                    deadline = end &+ sc.remaining
                    if let earliest = earliestTimeout, earliest < deadline { deadline = earliest }
                    platform.setTimer(deadline: deadline)
                    start = end
                    continue
                }
                next = nil
            default: next = nil
            }
            guard let next else {
                handle(exit, from: current.object)
                return
            }
            // A used-up budget rotates `sc` (bill): then the scheduler decides again, which is fine.
            guard budgetLeft else { return }
            // A reply that let the handler take a queued caller may have made a higher SC ready: the scheduler
            // decides (the EC the fast path handed over to stays ready on `sc`).
            if servedQueuedCaller {
                servedQueuedCaller = false
                return
            }
            assert(scheduler.highest === sc || !pickedAsHighest, "fast path changed the highest SC")
            assert(next.object.currentSC === sc, "fast path handed over to an EC on another SC")
            current = next
            start = end
        }
    }

    static var maxSlicesInARow: Int { 8 }

    /// After a timer exit: no timeout is due, `sc` is still the highest SC and `ec` still the EC it runs (so step
    /// would pick the same pair).
    @_optimize(speed)
    private func wouldPickAgain(_ ec: Link<ExecutionContext>, on sc: SchedulingContext, at now: UInt64) -> Bool {
        if let earliest = earliestTimeout, earliest <= now { return false }
        guard scheduler.highest === sc else { return false }
        return ec.withObject { ec in ec.isAlive && ec.state == .ready && ec.currentSC === sc && ec.callee == nil }
            && sc.runningEC.map(Link.init) == ec
    }

    /// The startup and recall events an EC takes before it runs on; true when one of them was raised (the EC
    /// now waits for its handler).
    private func raisePendingEvents(_ ec: ExecutionContext) -> Bool {
        if ec.startupPending {
            ec.startupPending = false
            if let vcpu = ec.vcpu {
                if raiseGuestExit(ec, vcpu, VMExit.startup) { return true }
            } else if raiseEvent(.startup, vector: Event.startup, for: ec) { return true }
        }
        if ec.recallPending {
            ec.recallPending = false
            if let vcpu = ec.vcpu {
                if raiseGuestExit(ec, vcpu, VMExit.recall) { return true }
            } else if raiseEvent(.recall, vector: Event.recall, for: ec) { return true }
        }
        return false
    }

    /// Runs `ec` in its PD's address space, with its PD's I/O ports, until it exits.
    @inline(__always)
    private func enter(_ ec: ExecutionContext) -> Exit {
        if let vcpu = ec.vcpuLink { return vcpu.withObject { enterGuest(ec, $0) } }
        let pd = ec.pd
        platform.activateAddressSpace(root: pd.pageTableRoot)
        if pd.ioBitmap.isEmpty { return platform.enterUser(&ec.context, ioPermissions: nil) }
        return platform.enterUser(&ec.context, ioPermissions: pd.ioBitmap)
    }

    /// The earliest deadline of a timed `down`, if any.
    var earliestTimeout: UInt64? {
        var earliest: UInt64?
        for entry in timeouts where entry.deadline < earliest ?? .max { earliest = entry.deadline }
        return earliest
    }

    /// Something could still become ready: a timeout is pending, or an EC waits on an assigned interrupt.
    var canStillWake: Bool {
        if !timeouts.isEmpty { return true }
        return interruptSemaphores.contains { $0.isAlive && $0.interruptAssigned && !$0.waiters.isEmpty }
            || messageSemaphores.contains { $0.isAlive && $0.interruptAssigned && !$0.waiters.isEmpty }
    }

    func makeID() -> UInt64 {
        defer { nextObjectID += 1 }
        return nextObjectID
    }

    /// Writes a line to the kernel console.
    func log(_ text: String) {
        for byte in text.utf8 { platform.consoleWrite(byte) }
        platform.consoleWrite(10)
    }
}

/// Counters for tests and benchmarks (how much work the kernel did).
public struct KernelStatistics: Equatable, Sendable {
    public var steps: UInt64 = 0
    public var exits: UInt64 = 0
    public var hypercalls: UInt64 = 0
    public var exceptions: UInt64 = 0
    public var interrupts: UInt64 = 0
    /// Message interrupts that arrived for a vector nobody was assigned (dropped).
    public var droppedMessages: UInt64 = 0
    public var timerExits: UInt64 = 0
    public var contextSwitches: UInt64 = 0
    /// Hypercalls the IPC fast path handled (also counted in `exits` and `hypercalls`).
    public var fastIPC: UInt64 = 0
    public init() {}
}
