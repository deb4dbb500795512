import KernelABI

/// Synchronous IPC. `call` sends the caller's UTCB message through a portal and blocks; the portal's handler EC runs
/// on the caller's SC (donation) until it replies. A busy handler queues callers in FIFO order. Events
/// (EventDelivery.swift) travel the same path as calls from the EC to the portal at its event base + vector; what a
/// call carries each way depends on its kind (CallKind.swift).
extension Kernel {
    /// call(pt)
    func call(from caller: ExecutionContext, portal selector: UInt64) throws(Failure) -> Completion {
        let portal = try callablePortal(caller, selector).object
        try checkMessageCounts(caller)
        try enter(portal, from: caller, kind: .call)
        return .blocked
    }

    /// Starts (or queues) a call from `caller` into `portal`.
    func enter(_ portal: Portal, from caller: ExecutionContext, kind: CallKind) throws(Failure) {
        let handler = portal.ec
        guard portal.isAlive, handler.isAlive, handler.state != .stopped else { throw .aborted }
        // Calling an EC that (transitively) waits for the caller would deadlock.
        var link: ExecutionContext? = caller
        while let ec = link {
            if ec === handler { throw .aborted }
            link = ec.caller
        }
        caller.callKind = kind
        if handler.state == .waitingForCall {
            try deliver(portal, from: caller)
        } else {
            caller.state = .queued
            caller.queuedAt = handler
            caller.queuedPortal = portal
            handler.pendingCallers.append(caller)
        }
    }

    /// The handler takes the call: message into its UTCB, fresh registers at the portal entry, caller's SC donated.
    private func deliver(_ portal: Portal, from caller: ExecutionContext) throws(Failure) {
        try caller.callKind.packMessage(from: caller, to: portal.ec, in: self)
        begin(portal, servingCallOf: caller)
    }

    /// The handler starts serving `caller` (its message is in place): portal id, fresh registers at the portal
    /// entry, the caller's SC donated, the call linked both ways.
    @_optimize(speed) @inline(__always)
    func begin(_ portal: Portal, servingCallOf caller: ExecutionContext) {
        let handler = portal.ec
        setUTCBWord(handler, UTCBLayout.portalIDWord, portal.portalID)
        handler.context.restart(at: portal.entry, stackPointer: handler.initialStackPointer)
        handler.callerLink = Link(caller)
        handler.currentSCLink = caller.currentSCLink
        caller.calleeLink = Link(handler)
        caller.state = .calling  // not queued: it was running, or becomeIdle took it off the handler's queue
        wake(handler)
    }

    /// reply(): the reply message goes to the caller (typed items into its PD, then the words); the handler waits
    /// for its next call. A caller that died in the meantime simply gets nothing.
    func reply(from handler: ExecutionContext) throws(Failure) -> Completion {
        guard let caller = handler.caller else { throw .badState }
        try checkMessageCounts(handler)
        if caller.isAlive, caller.callee === handler {
            try caller.callKind.unpackReply(from: handler, to: caller, in: self)
            end(callOf: caller, servedBy: handler)
        } else {
            caller.callee = nil
            becomeIdle(handler)
        }
        return .blocked
    }

    /// The call is answered: the caller runs again and the handler waits for its next call.
    @_optimize(speed) @inline(__always)
    func end(callOf caller: ExecutionContext, servedBy handler: ExecutionContext) {
        caller.calleeLink = nil
        wake(caller)
        becomeIdle(handler)
    }

    /// A handler done with its call waits for the next; queued callers are served in order.
    @_optimize(speed) @inline(__always)
    func becomeIdle(_ handler: ExecutionContext) {
        handler.callerLink = nil
        handler.currentSCLink = nil
        handler.state = .waitingForCall
        if !handler.pendingCallers.isEmpty { serveQueuedCallers(of: handler) }
    }

    /// The callers queued while `handler` was busy, one after the other until one of them keeps it busy.
    private func serveQueuedCallers(of handler: ExecutionContext) {
        while handler.isAlive, handler.state == .waitingForCall, !handler.pendingCallers.isEmpty {
            let next = handler.pendingCallers.removeFirst()
            let portal = next.queuedPortal
            next.queuedAt = nil
            next.queuedPortal = nil
            guard let portal else { continue }
            servedQueuedCaller = true
            do throws(Failure) {
                try deliver(portal, from: next)
            } catch {
                abortCall(of: next, error.status)
            }
        }
    }

    /// Ends a call the caller can no longer complete, as its kind says (a hypercall returns `status`).
    func abortCall(of caller: ExecutionContext, _ status: Status) {
        caller.callee = nil
        caller.queuedAt = nil
        caller.queuedPortal = nil
        guard caller.isAlive else { return }
        caller.callKind.abort(caller, status, in: self)
    }

    /// Untyped and typed counts must fit the UTCB data area.
    func checkMessageCounts(_ ec: ExecutionContext) throws(Failure) {
        let counts = utcbWord(ec, UTCBLayout.countsWord)
        let untyped = UTCBLayout.untypedCount(counts), typed = UTCBLayout.typedCount(counts)
        guard counts >> 32 == 0, untyped + 2 * typed <= UTCBLayout.maxDataWords else { throw .badRange }
    }

    /// Copies the untyped words and performs the typed items; the receiver's count word describes what arrived.
    func transferMessage(from sender: ExecutionContext, to receiver: ExecutionContext) throws(Failure) {
        let delivered = try transferTypedItems(from: sender, to: receiver)
        let untyped = UTCBLayout.untypedCount(utcbWord(sender, UTCBLayout.countsWord))
        copyUntypedWords(untyped, from: sender, to: receiver)
        for (i, item) in delivered.enumerated() {
            setUTCBWord(receiver, UTCBLayout.firstDataWord + untyped + 2 * i, item.word)
            setUTCBWord(receiver, UTCBLayout.firstDataWord + untyped + 2 * i + 1, item.base)
        }
        setUTCBWord(receiver, UTCBLayout.countsWord, UTCBLayout.counts(untyped: untyped, typed: delivered.count))
    }

    /// Copies the first `count` untyped words of the sender's message into the receiver's UTCB.
    @inline(__always)
    func copyUntypedWords(_ count: Int, from sender: ExecutionContext, to receiver: ExecutionContext) {
        for i in 0..<count {
            setUTCBWord(receiver, UTCBLayout.firstDataWord + i, utcbWord(sender, UTCBLayout.firstDataWord + i))
        }
    }

    /// Delegates each typed item (CRD in the sender's space, destination base) into the receiver's PD, inside the
    /// receiver's receive window for that kind. All or nothing. Returns the items as they landed.
    @discardableResult
    func transferTypedItems(from sender: ExecutionContext,
                            to receiver: ExecutionContext) throws(Failure) -> [CapabilityRange] {
        let counts = utcbWord(sender, UTCBLayout.countsWord)
        let untyped = UTCBLayout.untypedCount(counts), typed = UTCBLayout.typedCount(counts)
        guard typed > 0 else { return [] }
        var made: [Capability] = []
        var delivered: [CapabilityRange] = []
        for i in 0..<typed {
            let crdWord = utcbWord(sender, UTCBLayout.firstDataWord + untyped + 2 * i)
            let destination = utcbWord(sender, UTCBLayout.firstDataWord + untyped + 2 * i + 1)
            do throws(Failure) {
                guard let crd = CapabilityRange(word: crdWord), crd.kind != .null else { throw .badRange }
                let windowWord = utcbWord(receiver, crd.kind == .object ? UTCBLayout.objectWindowWord
                                                                        : UTCBLayout.memoryWindowWord)
                guard let window = CapabilityRange(word: windowWord), window.kind == crd.kind, window.isAligned,
                      crd.order < 52, destination >= window.base, crd.count <= window.count,
                      destination - window.base <= window.count - crd.count else { throw .badRange }
                made += try delegateRange(from: sender.pd, crd, to: receiver.pd, at: destination)
                delivered.append(CapabilityRange(kind: crd.kind, base: destination, order: crd.order,
                                                 permissions: crd.permissions))
            } catch {
                for cap in made.reversed() { remove(cap) }
                throw error
            }
        }
        return delivered
    }
}
