import KernelABI

/// A hypercall that cannot be carried out, with the status the caller gets.
struct Failure: Error {
    let status: Status
    init(_ status: Status) { self.status = status }
    static let badSelector = Failure(.badSelector)
    static let wrongType = Failure(.wrongType)
    static let insufficientRights = Failure(.insufficientRights)
    static let outOfMemory = Failure(.outOfMemory)
    static let badRange = Failure(.badRange)
    static let badState = Failure(.badState)
    static let aborted = Failure(.aborted)
}

/// How a hypercall ended: with a status and results now, or with the caller blocked (its status is written
/// when something wakes it).
enum Completion {
    case done(Status, UInt64, UInt64)
    case blocked

    static let success = Completion.done(.success, 0, 0)
    static func value(_ a: UInt64, _ b: UInt64 = 0) -> Completion { .done(.success, a, b) }
}

/// The hypercall entry: decode rax, validate and run, write the status back. Argument registers per ABI.md:
/// rdi, rsi, rdx, r10, r8, r9 in, rax (status), rdi, rsi out.
extension Kernel {
    func handleHypercall(_ ec: ExecutionContext) {
        statistics.hypercalls += 1
        let r = ec.context
        guard let number = Hypercall(rawValue: r.rax) else {
            finish(ec, .badHypercall)
            return
        }
        let completion: Completion
        do throws(Failure) {
            switch number {
            case .call: completion = try call(from: ec, portal: r.rdi)
            case .reply: completion = try reply(from: ec)
            case .createPD: completion = try createPD(by: ec, at: r.rdi, quota: r.rsi, permissions: r.rdx, flags: r.r10)
            case .createEC:
                completion = try createEC(by: ec, at: r.rdi, pd: r.rsi, utcb: r.rdx, stackPointer: r.r10, entry: r.r8,
                                          flags: r.r9)
            case .createSC: completion = try createSC(by: ec, at: r.rdi, ec: r.rsi, priority: r.rdx, budget: r.r10)
            case .createPT:
                completion = try createPT(by: ec, at: r.rdi, ec: r.rsi, entry: r.rdx, portalID: r.r10, mtd: r.r8)
            case .createSM: completion = try createSM(by: ec, at: r.rdi, count: r.rsi)
            case .delegate: completion = try delegate(by: ec, pd: r.rdi, range: r.rsi, destination: r.rdx)
            case .ctrlEC: completion = try controlEC(by: ec, ec: r.rdi, operation: r.rsi)
            case .ctrlSC: completion = try controlSC(by: ec, sc: r.rdi, operation: r.rsi)
            case .ctrlPT: completion = try controlPT(by: ec, pt: r.rdi, portalID: r.rsi)
            case .ctrlSM: completion = try controlSM(by: ec, sm: r.rdi, operation: r.rsi, deadline: r.rdx)
            case .revoke: completion = try revoke(by: ec, range: r.rdi, flags: r.rsi)
            case .lookup: completion = try lookup(by: ec, range: r.rdi)
            case .assignInt: completion = try assignInterrupt(by: ec, sm: r.rdi, irq: r.rsi, flags: r.rdx,
                                                                  requester: r.r10)
            case .consoleWrite: completion = try consoleWrite(by: ec, length: r.rdi)
            case .assignDev: completion = try assignDevice(by: ec, pd: r.rdi, requester: r.rsi, flags: r.rdx)
            case .claimDeviceMemory: completion = try claimDeviceMemory(by: ec, firstPage: r.rdi, order: r.rsi)
            }
        } catch {
            finish(ec, error.status)
            return
        }
        if case .done(let status, let out0, let out1) = completion { finish(ec, status, out0, out1) }
    }

    /// Writes a hypercall's results into the EC's registers.
    func finish(_ ec: ExecutionContext, _ status: Status, _ out0: UInt64 = 0, _ out1: UInt64 = 0) {
        ec.context.rax = status.rawValue
        ec.context.rdi = out0
        ec.context.rsi = out1
    }

    // MARK: capability lookup

    /// The object capability at `selector` in `pd` and its object, checked for kind (via `extract`) and `rights`, in
    /// that order: every capability check of an object hypercall argument goes through here.
    @inline(__always)
    func resolveCapability<T>(_ pd: ProtectionDomain, _ selector: UInt64, needs rights: UInt64,
                              _ extract: (KernelObject) -> T?) throws(Failure) -> (capability: Capability, object: T) {
        guard selector < CapabilitySpace.selectorLimit, let cap = pd.space.objects[selector],
              let object = cap.object else { throw .badSelector }
        guard let typed = extract(object) else { throw .wrongType }
        guard cap.permissions & rights == rights else { throw .insufficientRights }
        return (cap, typed)
    }

    func resolve<T>(_ pd: ProtectionDomain, _ selector: UInt64, needs rights: UInt64,
                    _ extract: (KernelObject) -> T?) throws(Failure) -> T {
        try resolveCapability(pd, selector, needs: rights, extract).object
    }

    func resolvePD(_ pd: ProtectionDomain, _ s: UInt64, needs r: UInt64) throws(Failure) -> ProtectionDomain {
        try resolve(pd, s, needs: r) { if case .pd(let o) = $0 { return o } else { return nil } }
    }
    func resolveEC(_ pd: ProtectionDomain, _ s: UInt64, needs r: UInt64) throws(Failure) -> ExecutionContext {
        try resolve(pd, s, needs: r) { if case .ec(let o) = $0 { return o } else { return nil } }
    }
    func resolveSC(_ pd: ProtectionDomain, _ s: UInt64, needs r: UInt64) throws(Failure) -> SchedulingContext {
        try resolve(pd, s, needs: r) { if case .sc(let o) = $0 { return o } else { return nil } }
    }
    func resolvePT(_ pd: ProtectionDomain, _ s: UInt64, needs r: UInt64) throws(Failure) -> Portal {
        try resolve(pd, s, needs: r, Self.portal)
    }
    private static func portal(_ object: KernelObject) -> Portal? {
        if case .pt(let o) = object { return o } else { return nil }
    }

    /// A portal `ec` may call through the capability at `selector` in its object space (call right), with that
    /// capability: the one check behind `call`, events (EventDelivery.swift) and the fast path's cache misses.
    @inline(__always)
    func callablePortal(_ ec: ExecutionContext, _ selector: UInt64) throws(Failure) -> (capability: Capability,
                                                                                       object: Portal) {
        try resolveCapability(ec.eventSpace, selector, needs: Permissions.ptCall, Self.portal)
    }
    func resolveSM(_ pd: ProtectionDomain, _ s: UInt64, needs r: UInt64) throws(Failure) -> Semaphore {
        try resolve(pd, s, needs: r) { if case .sm(let o) = $0 { return o } else { return nil } }
    }

    /// A selector where a new capability may land: in range and empty.
    func requireFreeSelector(_ pd: ProtectionDomain, _ selector: UInt64) throws(Failure) {
        guard selector < CapabilitySpace.selectorLimit, pd.space.objects[selector] == nil else { throw .badSelector }
    }

    // MARK: UTCB access (the kernel reaches UTCBs through their frames)

    // Inlined: the IPC path copies messages word by word through these. The index is masked to the frame's 512
    // words, so the address needs no overflow checks and stays inside the UTCB whatever a caller passes.
    @inline(__always)
    func utcbWord(_ ec: ExecutionContext, _ index: Int) -> UInt64 {
        platform.readPhysical(ec.utcbFrame &+ utcbOffset(index))
    }
    @inline(__always)
    func setUTCBWord(_ ec: ExecutionContext, _ index: Int, _ value: UInt64) {
        platform.writePhysical(ec.utcbFrame &+ utcbOffset(index), value)
    }
    @inline(__always)
    private func utcbOffset(_ index: Int) -> UInt64 { (UInt64(truncatingIfNeeded: index) & 511) &* 8 }
}
