import KernelABI

/// Events: what the kernel reports about an EC (its exceptions, its startup, a recall) is a call from that EC to the
/// portal at its event base + event number, in its own PD's object space (NOVA's exception portals). The call then
/// travels the ordinary IPC path (IPC.swift) with the event's CallKind packing the message and unpacking the reply.
extension Kernel {
    /// Raises event `vector` of `kind` for `ec`: a call to the portal at its event base + vector. Without a portal
    /// `ec` may call there (or when the call cannot start), an exception stops the EC with a console line; startup
    /// and recall are dropped. Returns whether a call was started.
    @discardableResult
    func raiseEvent(_ kind: CallKind, vector: UInt64, errorCode: UInt64 = 0, address: UInt64 = 0,
                    for ec: ExecutionContext) -> Bool {
        let selector = ec.eventBase &+ vector
        guard let portal = try? callablePortal(ec, selector).object else {
            if kind.stopsWithoutHandler {
                stop(ec, "no event portal at selector \(hex(selector))", vector: vector, errorCode: errorCode,
                     address: address)
            }
            return false
        }
        ec.pendingEvent = (vector, errorCode, address)
        do throws(Failure) {
            try enter(portal, from: ec, kind: kind)
            return true
        } catch {
            if kind.stopsWithoutHandler {
                stop(ec, "event portal for vector \(vector) failed (\(error.status))", vector: vector,
                     errorCode: errorCode, address: address)
            }
            return false
        }
    }

    /// The event message: vector, error code, fault address and the EC's rip, rsp, rflags (FaultMessage order).
    func packEventMessage(of ec: ExecutionContext, into handler: ExecutionContext) {
        let e = ec.pendingEvent
        let words = [e.vector, e.errorCode, e.address, ec.context.rip, ec.context.rsp, ec.context.rflags]
        for (i, word) in words.enumerated() { setUTCBWord(handler, UTCBLayout.firstDataWord + i, word) }
        setUTCBWord(handler, UTCBLayout.countsWord, UTCBLayout.counts(untyped: FaultMessage.words, typed: 0))
    }

    /// An event reply with at least `FaultMessage.words` untyped words sets rip, rsp and rflags (arithmetic flags
    /// only; interrupts stay on); a seventh word sets rdi (used to hand a start argument to a new EC).
    func resumeAfterEvent(_ ec: ExecutionContext, replyFrom handler: ExecutionContext) {
        let count = UTCBLayout.untypedCount(utcbWord(handler, UTCBLayout.countsWord))
        guard count >= FaultMessage.words else { return }
        let word = { (i: Int) in self.utcbWord(handler, UTCBLayout.firstDataWord + i) }
        ec.context.rip = word(FaultMessage.instructionPointer)
        ec.context.rsp = word(FaultMessage.stackPointer)
        ec.context.rflags = (word(FaultMessage.flags) & 0xcd5) | 0x202
        if count > FaultMessage.resumeArgument { ec.context.rdi = word(FaultMessage.resumeArgument) }
    }

    /// Stops an EC for good and says why on the console.
    func stop(_ ec: ExecutionContext, _ why: String, vector: UInt64, errorCode: UInt64, address: UInt64) {
        ec.state = .stopped
        log("kernel: \(ec.name) stopped: vector \(vector) error \(hex(errorCode)) address \(hex(address)) "
            + "rip \(hex(ec.context.rip)): \(why)")
    }
}
