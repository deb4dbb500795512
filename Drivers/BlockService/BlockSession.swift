import KernelABI
import UserRuntime

/// A block client that outlives its driver: when the provider dies (a call comes back `aborted`, or finds the
/// portal slot empty: `badSelector`) it waits for the root task to reconnect it (the restarted driver registers again and the
/// root puts the new portal at the same selector), attaches the buffer again and resubmits every request that was
/// not acknowledged, in the order they were first submitted. Tags are the session's own, stable across restarts.
///
/// A write is acknowledged when `wait` returns success; until then the caller must leave its buffer bytes alone,
/// since the session may write them again (writing the same bytes twice is harmless, losing them is not). When the
/// provider does not come back within `reconnectMilliseconds`, every call fails with `providerGone`.
/// Invariant: `pending` holds exactly the requests submitted and not yet returned by `wait`, each with the driver
/// tag of the current driver run (nil only while reconnecting or when `failure` is set).
public final class BlockSession<P: UserPlatform> {
    public private(set) var client: BlockClient<P>
    let bufferPage: UInt64
    let bufferOrder: UInt64
    /// A semaphore of the caller's (count 0) the session sleeps on between reconnection attempts.
    let sleepSM: UInt64
    let ticksPerMillisecond: UInt64
    public var reconnectMilliseconds: UInt64 = 3000
    public static var pollMilliseconds: UInt64 { 5 }

    struct Pending {
        var id: UInt64
        var request: BlockRequest
        var driverTag: UInt64?
        var failure: BlockClient<P>.Failure?
    }
    private var pending: [Pending] = []
    private var nextID: UInt64 = 1
    private var attached = false
    /// How often the provider came back, and how many requests were submitted again because of that.
    public private(set) var reconnections = 0
    public private(set) var resubmitted = 0

    public init(client: BlockClient<P>, bufferPage: UInt64, bufferOrder: UInt64, sleepSM: UInt64, ticksPerMillisecond: UInt64) {
        self.client = client
        self.bufferPage = bufferPage
        self.bufferOrder = bufferOrder
        self.sleepSM = sleepSM
        self.ticksPerMillisecond = max(1, ticksPerMillisecond)
        _ = SystemCalls(client.utcb.platform).createSM(sleepSM, count: 0)
    }

    /// Calls from `utcb` from now on, with the same portal, buffer and pending requests: for a client whose EC
    /// changes over the session's life (the VMM builds it on its main EC and uses it from a vCPU's exit handler,
    /// each with its own UTCB and, in the simulator, its own platform).
    public func bind(to utcb: UTCB<P>) {
        client = BlockClient(utcb: utcb, portal: client.portal)
    }

    /// A failure of the call itself (not a refusal by the driver): the provider died or is not there yet.
    static func isProviderGone(_ f: BlockClient<P>.Failure) -> Bool {
        f.reason == nil && (f.status == .aborted || f.status == .badSelector)
    }

    static var gone: BlockClient<P>.Failure { .init(status: .aborted, reason: .providerGone) }

    public func info() -> Result<(sectors: UInt64, sectorSize: UInt64, maxInFlight: UInt64), BlockClient<P>.Failure> {
        let result = client.info()
        guard case .failure(let f) = result, Self.isProviderGone(f) else { return result }
        if case .failure(let e) = reconnect() { return .failure(e) }
        return client.info()
    }

    /// Attaches the buffer (again after every reconnection); the pages the driver holds.
    public func attach() -> Result<UInt64, BlockClient<P>.Failure> {
        attached = true
        switch client.attach(virtualPage: bufferPage, order: bufferOrder) {
        case .success(let pages): return .success(pages)
        case .failure(let f) where Self.isProviderGone(f):
            return reconnect().map { UInt64(1) << self.bufferOrder }
        case .failure(let f):
            attached = false
            return .failure(f)
        }
    }

    public func submit(_ request: BlockRequest) -> Result<UInt64, BlockClient<P>.Failure> {
        let id = nextID
        nextID += 1
        pending.append(Pending(id: id, request: request, driverTag: nil, failure: nil))
        switch client.submit(request) {
        case .success(let tag):
            pending[pending.count - 1].driverTag = tag
            return .success(id)
        case .failure(let f) where Self.isProviderGone(f):
            // It may or may not have reached the device: reconnecting submits it (again).
            if case .failure(let e) = reconnect() {
                pending.removeAll { $0.id == id }
                return .failure(e)
            }
            if let f = pending.first(where: { $0.id == id })?.failure {
                pending.removeAll { $0.id == id }
                return .failure(f)
            }
            return .success(id)
        case .failure(let f):
            pending.removeLast()
            return .failure(f)
        }
    }

    public func wait(_ id: UInt64) -> Result<Void, BlockClient<P>.Failure> {
        while true {
            guard let entry = pending.first(where: { $0.id == id }) else {
                return .failure(.init(status: .badRange, reason: .unknownTag))
            }
            if let f = entry.failure {
                pending.removeAll { $0.id == id }
                return .failure(f)
            }
            guard let tag = entry.driverTag else { return .failure(Self.gone) }
            let result = client.wait(tag)
            if case .failure(let f) = result, Self.isProviderGone(f) {
                if case .failure(let e) = reconnect() {
                    pending.removeAll { $0.id == id }
                    return .failure(e)
                }
                continue
            }
            pending.removeAll { $0.id == id }
            return result
        }
    }

    /// Waits for the provider to answer again, then attaches and resubmits; a driver that dies during this starts
    /// it over. Fails with `providerGone` after `reconnectMilliseconds` without an answer.
    private func reconnect() -> Result<Void, BlockClient<P>.Failure> {
        let sys = SystemCalls(client.utcb.platform)
        let platform = client.utcb.platform
        let deadline = platform.timestamp() + reconnectMilliseconds * ticksPerMillisecond
        for i in pending.indices { pending[i].driverTag = nil }
        attempt: while platform.timestamp() < deadline {
            _ = sys.down(sm: sleepSM, deadline: platform.timestamp() + Self.pollMilliseconds * ticksPerMillisecond)
            guard case .success = client.info() else { continue }
            if attached, case .failure(let f) = client.attach(virtualPage: bufferPage, order: bufferOrder) {
                if Self.isProviderGone(f) { continue }
                for i in pending.indices { pending[i].failure = f }
                return .success(())
            }
            for i in pending.indices where pending[i].failure == nil {
                switch client.submit(pending[i].request) {
                case .success(let tag): pending[i].driverTag = tag
                case .failure(let f) where Self.isProviderGone(f):
                    for j in pending.indices { pending[j].driverTag = nil }
                    continue attempt
                case .failure(let f): pending[i].failure = f
                }
            }
            reconnections += 1
            resubmitted += pending.filter { $0.driverTag != nil }.count
            return .success(())
        }
        for i in pending.indices { pending[i].failure = Self.gone }
        return .failure(Self.gone)
    }
}
