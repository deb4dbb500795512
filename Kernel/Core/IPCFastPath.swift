import KernelABI

/// The IPC fast path: the two hypercalls of a plain round trip, done without the general machinery (hypercall
/// decoding, `Failure`/`Completion` values, typed-item transfer, queueing, the deadlock walk) and followed by a
/// direct switch to the EC that continues on the same SC (see runOnce). It covers
/// - `call` with untyped words only, through a live portal the caller may call, into a handler waiting for a call;
/// - `reply` with untyped words only, to a live caller whose `call` hypercall (not an event) waits for this handler.
/// Anything else returns nil before changing any state, and the general path (IPC.swift) does the work. When the
/// fast path acts, the kernel ends in exactly the state the general path would produce for the same hypercall.
/// The functions on this path (here, Kernel.runOnce, IPC's begin/end/becomeIdle, the scheduler's and the x86
/// platform's entry code) are marked `@_optimize(speed)`; the rest of the kernel is compiled for size.
extension Kernel {
    /// Handles `ec`'s hypercall if it is a fast-path case; returns the EC that now runs on `ec`'s SC. The ECs and
    /// the portal are used through non-retaining references (Link.swift): nothing on this path destroys objects.
    @_optimize(speed)
    func fastIPC(from ec: ExecutionContext) -> Link<ExecutionContext>? {
        let next: Link<ExecutionContext>?
        switch ec.context.rax {
        case Hypercall.call.rawValue: next = fastCall(from: ec)
        case Hypercall.reply.rawValue: next = fastReply(from: ec)
        default: return nil
        }
        if next != nil {
            statistics.exits &+= 1
            statistics.hypercalls &+= 1
            statistics.fastIPC &+= 1
        }
        return next
    }

    /// A message of untyped words only, within the data area: its counts word is just the untyped count.
    @inline(__always)
    private func untypedOnlyCount(_ ec: ExecutionContext) -> Int? {
        let counts = utcbWord(ec, UTCBLayout.countsWord)
        return counts <= UInt64(UTCBLayout.maxDataWords) ? Int(counts) : nil
    }

    @_optimize(speed)
    private func fastCall(from caller: ExecutionContext) -> Link<ExecutionContext>? {
        guard let portal = cachedPortal(&caller.lastCalledPortal, of: caller, at: caller.context.rdi) else { return nil }
        return portal.withObject { portal -> Link<ExecutionContext>? in
            let handler = portal.ec
            guard portal.isAlive, handler.isAlive, handler.state == .waitingForCall,
                  let count = untypedOnlyCount(caller) else { return nil }
            // A handler waiting for a call serves no one, so it cannot be on the caller's chain: no deadlock check.
            copyUntypedWords(count, from: caller, to: handler)
            setUTCBWord(handler, UTCBLayout.countsWord, UTCBLayout.counts(untyped: count, typed: 0))
            caller.callKind = .call
            begin(portal, servingCallOf: caller)
            return Link(handler)
        }
    }

    /// The portal behind the capability at `selector` in `ec`'s object space, if `ec` may call it
    /// (Kernel.callablePortal), behind `cache` (the EC's last called portal, or a vCPU's exit portals). A live
    /// capability always sits in its holder's slot at its key (Capability's invariant) and its object and rights
    /// never change, so a cached one is still the right answer while it is live: a repeated call or exit needs no
    /// dictionary lookup (hashing the selector costs ~150 instructions).
    @_optimize(speed) @inline(__always)
    private func cachedPortal(_ cache: inout PortalCache, of ec: ExecutionContext, at selector: UInt64) -> Link<Portal>? {
        if let portal = cache.portal(at: selector) { return portal }
        guard let found = try? callablePortal(ec, selector) else { return nil }
        cache.remember(found.capability, found.object)
        return Link(found.object)
    }

    /// Also the reply to a vCPU's exit: its state groups go back as the general path writes them.
    @_optimize(speed)
    private func fastReply(from handler: ExecutionContext) -> Link<ExecutionContext>? {
        guard let link = handler.callerLink else { return nil }
        return link.withObject { caller -> Link<ExecutionContext>? in
            guard caller.isAlive, caller.calleeLink == Link(handler), let count = untypedOnlyCount(handler) else {
                return nil
            }
            switch caller.callKind {
            case .call:
                copyUntypedWords(count, from: handler, to: caller)
                setUTCBWord(caller, UTCBLayout.countsWord, UTCBLayout.counts(untyped: count, typed: 0))
                finish(caller, .success)
            case .vmExit:
                unpackGuestState(from: handler, to: caller)
            case .exception, .startup, .recall:
                return nil
            }
            end(callOf: caller, servedBy: handler)
            return caller.state == .ready ? link : nil
        }
    }

    /// A vCPU's exit into its handler when that handler waits for a call: what `raiseGuestExit` and the general
    /// delivery do (the portal's state groups into the handler's UTCB, the call begun on the vCPU's SC), without
    /// the general machinery; nil (nothing changed) otherwise. The EC that runs next on the SC is the handler.
    @_optimize(speed)
    func fastGuestExit(_ ec: ExecutionContext) -> Link<ExecutionContext>? {
        guard let vcpuLink = ec.vcpuLink else { return nil }
        return vcpuLink.withObject { vcpu -> Link<ExecutionContext>? in
            guard vcpu.pendingFailure == nil,
                  let link = cachedPortal(&vcpu.exitPortals, of: ec, at: ec.eventBase &+ vcpu.state.exitReason) else { return nil }
            return link.withObject { portal -> Link<ExecutionContext>? in
                let handler = portal.ec
                guard portal.isAlive, handler.isAlive, handler.state == .waitingForCall else { return nil }
                prepareExitCall(ec, vcpu, through: portal)
                ec.callKind = .vmExit
                packGuestState(of: vcpu, into: handler)
                begin(portal, servingCallOf: ec)
                statistics.exits &+= 1
                return Link(handler)
            }
        }
    }
}
