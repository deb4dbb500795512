import KernelABI

/// An execution context: a thread (global, runs on its own SC) or a portal handler (local, runs on the SC of the
/// caller it serves). Its UTCB is one pool frame mapped at `utcbAddress` in its home PD.
///
/// Invariants:
/// - `state == .calling` iff `callee != nil`; then `callee.caller === self`.
/// - A handler serving a call (`caller != nil`) runs on `caller`'s SC: `currentSC === caller.currentSC`.
/// - `.queued` iff the EC is in exactly one handler's `pendingCallers` (`queuedAt`).
/// - `.blocked` iff it is in `blockedOn.waiters`.
/// - A global EC's `currentSC` is its bound SC while not serving; a local EC's is nil while `.waitingForCall`.
/// - `caller`, `callee` and `currentSC` name live objects (they are non-owning links: Link.swift).
/// - A vCPU (`vcpu != nil`) is global, lives in a VM PD, has no UTCB (`utcbFrame` is its first state frame) and
///   looks its event portals up in `vcpu.vmm`'s object space.
final class ExecutionContext {
    enum State: Equatable {
        /// Can run when an SC reaches it.
        case ready
        /// A local EC with no call to serve.
        case waitingForCall
        /// In a call (hypercall or event), waiting for `callee` to reply.
        case calling
        /// Waiting for a busy handler (`queuedAt`) to take its call.
        case queued
        /// In `down` on a semaphore.
        case blocked
        /// Stopped for good: an unhandled fault, or destroyed.
        case stopped
    }

    let id: UInt64
    let pd: ProtectionDomain
    let isGlobal: Bool
    let eventBase: UInt64
    let utcbAddress: UInt64
    let utcbFrame: UInt64
    /// Where a local EC's stack pointer starts for every call.
    let initialStackPointer: UInt64
    var context = UserContext()
    var state: State
    var isAlive = true

    /// The SC bound at create_sc (global ECs only).
    var boundSC: SchedulingContext?
    /// The donation chain, as non-owning links (Link.swift): the SC this EC runs on right now, the caller it
    /// serves, the handler serving its call. The computed properties below read and write them as objects.
    var currentSCLink: Link<SchedulingContext>?
    var callerLink: Link<ExecutionContext>?
    var calleeLink: Link<ExecutionContext>?
    /// What its current (or queued) call is: a `call` hypercall or an event (CallKind.swift).
    var callKind: CallKind = .call
    var pendingCallers: [ExecutionContext] = []
    var queuedAt: ExecutionContext?
    /// The portal a queued caller is waiting to enter (the kind of call is `callKind`).
    var queuedPortal: Portal?
    var blockedOn: Semaphore?
    var recallPending = false
    /// Its creator's capability; when the home PD dies the kernel removes it, which destroys the EC everywhere.
    var original: Capability?
    /// A global EC takes its startup event (if its PD has that portal) before it first runs.
    var startupPending = false
    /// The exception a queued or running event call reports: vector, error code, fault address.
    var pendingEvent: (vector: UInt64, errorCode: UInt64, address: UInt64) = (0, 0, 0)
    /// The portal this EC last called on the IPC fast path (IPCFastPath.swift); a vCPU's exit portals are cached
    /// in its VirtualCPU.
    var lastCalledPortal = PortalCache(size: 1)
    /// The PD that paid for it (nil for the root EC, paid by the kernel at boot).
    let chargedTo: ProtectionDomain?
    /// Set for a vCPU: its guest state and platform frames.
    var vcpu: VirtualCPU? { didSet { vcpuLink = vcpu.map { Link($0) } } }
    /// `vcpu` without a reference count, for the VM exit path (Link.swift): valid while `vcpu` holds it.
    private(set) var vcpuLink: Link<VirtualCPU>?

    /// The PD whose object space holds this EC's event portals: its own, or a vCPU's VMM.
    var eventSpace: ProtectionDomain { vcpu?.vmm ?? pd }

    init(id: UInt64, pd: ProtectionDomain, isGlobal: Bool, eventBase: UInt64, utcbAddress: UInt64, utcbFrame: UInt64,
         stackPointer: UInt64, entry: UInt64, chargedTo: ProtectionDomain?) {
        self.id = id
        self.pd = pd
        self.isGlobal = isGlobal
        self.eventBase = eventBase
        self.utcbAddress = utcbAddress
        self.utcbFrame = utcbFrame
        self.initialStackPointer = stackPointer
        self.chargedTo = chargedTo
        state = isGlobal ? .ready : .waitingForCall
        context.rsp = stackPointer
        context.rip = entry
        context.addressSpaceRoot = pd.pageTableRoot
    }

    var name: String { "\(pd.name) ec#\(id)" }

    /// The SC whose time this EC runs on right now.
    var currentSC: SchedulingContext? {
        get { currentSCLink?.object }
        set { currentSCLink = newValue.map(Link.init) }
    }
    var caller: ExecutionContext? {
        get { callerLink?.object }
        set { callerLink = newValue.map(Link.init) }
    }
    var callee: ExecutionContext? {
        get { calleeLink?.object }
        set { calleeLink = newValue.map(Link.init) }
    }
}
