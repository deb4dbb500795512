import KernelABI

/// Synchronous IPC. `call` sends the caller's UTCB message through a portal and blocks; the portal's handler EC runs
/// on the caller's SC (donation) until it replies. A busy handler queues callers in FIFO order. Exceptions travel
/// the same path as calls from the faulting EC to the portal at its event base + vector.
extension Kernel {
    /// call(pt)
    func call(from caller: ExecutionContext, portal selector: UInt64) throws(Failure) -> Completion {
        let portal = try resolvePT(caller.pd, selector, needs: Permissions.ptCall)
        try checkMessageCounts(caller)
        try enter(portal, from: caller, kind: .hypercall)
        return .blocked
    }

    /// Starts (or queues) a call from `caller` into `portal`.
    func enter(_ portal: Portal, from caller: ExecutionContext, kind: ExecutionContext.CallKind) throws(Failure) {
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
        let handler = portal.ec
        switch caller.callKind {
        case .hypercall:
            try transferMessage(from: caller, to: handler)
        case .event:
            let e = caller.pendingEvent
            let words = [e.vector, e.errorCode, e.address, caller.context.rip, caller.context.rsp, caller.context.rflags]
            for (i, word) in words.enumerated() { setUTCBWord(handler, UTCBLayout.firstDataWord + i, word) }
            setUTCBWord(handler, UTCBLayout.countsWord, UTCBLayout.counts(untyped: FaultMessage.words, typed: 0))
        }
        begin(portal, servingCallOf: caller)
    }

    /// The handler starts serving `caller` (its message is in place): portal id, fresh registers at the portal
    /// entry, the caller's SC donated, the call linked both ways.
    @_optimize(speed)
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
            switch caller.callKind {
            case .hypercall:
                try transferMessage(from: handler, to: caller)
                finish(caller, .success)
            case .event:
                try transferTypedItems(from: handler, to: caller)
                resumeAfterEvent(caller, replyFrom: handler)
            }
            end(callOf: caller, servedBy: handler)
        } else {
            caller.callee = nil
            becomeIdle(handler)
        }
        return .blocked
    }

    /// The call is answered: the caller runs again and the handler waits for its next call.
    @_optimize(speed)
    func end(callOf caller: ExecutionContext, servedBy handler: ExecutionContext) {
        caller.calleeLink = nil
        wake(caller)
        becomeIdle(handler)
    }

    /// A handler done with its call waits for the next; queued callers are served in order.
    @_optimize(speed)
    func becomeIdle(_ handler: ExecutionContext) {
        handler.callerLink = nil
        handler.currentSCLink = nil
        handler.state = .waitingForCall
        while handler.isAlive, handler.state == .waitingForCall, !handler.pendingCallers.isEmpty {
            let next = handler.pendingCallers.removeFirst()
            let portal = next.queuedPortal
            next.queuedAt = nil
            next.queuedPortal = nil
            guard let portal else { continue }
            do throws(Failure) {
                try deliver(portal, from: next)
            } catch {
                abortCall(of: next, error.status)
            }
        }
    }

    /// Ends a call the caller can no longer complete: a hypercall returns `status`; an event stops the EC.
    func abortCall(of caller: ExecutionContext, _ status: Status) {
        caller.callee = nil
        caller.queuedAt = nil
        caller.queuedPortal = nil
        guard caller.isAlive else { return }
        if caller.callKind == .event {
            let e = caller.pendingEvent
            stop(caller, "event handler for vector \(e.vector) is gone (\(status))", vector: e.vector,
                 errorCode: e.errorCode, address: e.address)
        } else {
            finish(caller, status)
            wake(caller)
        }
    }

    /// An event reply with at least `FaultMessage.words` untyped words sets rip, rsp and rflags (arithmetic flags
    /// only; interrupts stay on); a seventh word sets rdi (used to hand a start argument to a new EC).
    private func resumeAfterEvent(_ ec: ExecutionContext, replyFrom handler: ExecutionContext) {
        let count = UTCBLayout.untypedCount(utcbWord(handler, UTCBLayout.countsWord))
        guard count >= FaultMessage.words else { return }
        let word = { (i: Int) in self.utcbWord(handler, UTCBLayout.firstDataWord + i) }
        ec.context.rip = word(FaultMessage.instructionPointer)
        ec.context.rsp = word(FaultMessage.stackPointer)
        ec.context.rflags = (word(FaultMessage.flags) & 0xcd5) | 0x202
        if count > FaultMessage.resumeArgument { ec.context.rdi = word(FaultMessage.resumeArgument) }
    }

    /// Raises event `vector` for `ec`: a call to the portal at its event base + vector. Without such a portal a
    /// fatal event stops the EC with a console line; a non-fatal one (startup, recall) is dropped.
    /// Returns whether a call was started.
    @discardableResult
    func raiseEvent(_ vector: UInt64, errorCode: UInt64, address: UInt64, for ec: ExecutionContext,
                    fatal: Bool) -> Bool {
        let selector = ec.eventBase &+ vector
        if selector < CapabilitySpace.selectorLimit, let cap = ec.pd.space.objects[selector],
           cap.permissions & Permissions.ptCall != 0, case .pt(let portal)? = cap.object {
            ec.pendingEvent = (vector, errorCode, address)
            do throws(Failure) {
                try enter(portal, from: ec, kind: .event)
                return true
            } catch {
                if fatal {
                    stop(ec, "event portal for vector \(vector) failed (\(error.status))", vector: vector,
                         errorCode: errorCode, address: address)
                }
                return false
            }
        }
        if fatal {
            stop(ec, "no event portal at selector \(hex(selector))", vector: vector, errorCode: errorCode,
                 address: address)
        }
        return false
    }

    /// Stops an EC for good and says why on the console.
    func stop(_ ec: ExecutionContext, _ why: String, vector: UInt64, errorCode: UInt64, address: UInt64) {
        ec.state = .stopped
        log("kernel: \(ec.name) stopped: vector \(vector) error \(hex(errorCode)) address \(hex(address)) "
            + "rip \(hex(ec.context.rip)): \(why)")
    }

    /// Untyped and typed counts must fit the UTCB data area.
    func checkMessageCounts(_ ec: ExecutionContext) throws(Failure) {
        let counts = utcbWord(ec, UTCBLayout.countsWord)
        let untyped = UTCBLayout.untypedCount(counts), typed = UTCBLayout.typedCount(counts)
        guard counts >> 32 == 0, untyped + 2 * typed <= UTCBLayout.maxDataWords else { throw .badRange }
    }

    /// Copies the untyped words and performs the typed items; the receiver's count word describes what arrived.
    private func transferMessage(from sender: ExecutionContext, to receiver: ExecutionContext) throws(Failure) {
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
