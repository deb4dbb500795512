import KernelABI

/// What a call into a portal is, by what started it. Each kind says how the handler's message is packed, what the
/// handler's reply does and how a call that cannot be served ends; IPC.swift runs every call through these three
/// and never asks which kind it has, so a new kind (a VM exit) is one more case here. The IPC fast path
/// (IPCFastPath.swift) does `.call` with untyped words only itself, ending in the state `.call` produces.
enum CallKind: Equatable {
    /// A `call` hypercall: the caller's UTCB message (untyped words and typed items) goes to the handler, the
    /// reply's message comes back, and the caller gets a status.
    case call
    /// A CPU exception in user mode: the handler gets the fault message (`FaultMessage`); a reply may move the EC
    /// on (rip, rsp, rflags, rdi: EventDelivery.resumeAfterEvent). Without a portal for it the EC stops.
    case exception
    /// A global EC's first run, before it runs on its own: message and reply as for exceptions. Optional: without
    /// a portal the EC simply starts.
    case startup
    /// `ctrl_ec(recall)`: message and reply as for exceptions. Optional like startup.
    case recall
    /// A vCPU's exit (including its startup and recall): the groups of its state that the portal's transfer
    /// descriptor names go to the handler's UTCB, the groups the reply names come back (GuestExecution.swift).
    case vmExit

    /// Whether an EC whose event finds no portal to call stops (a fault cannot be resumed unhandled) rather than
    /// running on as if the event had not happened.
    var stopsWithoutHandler: Bool { self == .exception }

    /// Puts `caller`'s message into `handler`'s UTCB, just before the handler starts serving it.
    func packMessage<P>(from caller: ExecutionContext, to handler: ExecutionContext,
                        in kernel: Kernel<P>) throws(Failure) {
        switch self {
        case .call: try kernel.transferMessage(from: caller, to: handler)
        case .exception, .startup, .recall: kernel.packEventMessage(of: caller, into: handler)
        case .vmExit: kernel.packGuestState(of: caller, into: handler)
        }
    }

    /// Carries out `handler`'s reply (its counts are checked) for `caller`, which runs again once the call ends.
    func unpackReply<P>(from handler: ExecutionContext, to caller: ExecutionContext,
                        in kernel: Kernel<P>) throws(Failure) {
        switch self {
        case .call:
            try kernel.transferMessage(from: handler, to: caller)
            kernel.finish(caller, .success)
        case .exception, .startup, .recall:
            try kernel.transferTypedItems(from: handler, to: caller)
            kernel.resumeAfterEvent(caller, replyFrom: handler)
        case .vmExit: kernel.unpackGuestState(from: handler, to: caller)
        }
    }

    /// Ends a call the live `caller` can no longer complete (its portal or handler is gone): a hypercall returns
    /// `status`; an EC whose event nobody can serve stops.
    func abort<P>(_ caller: ExecutionContext, _ status: Status, in kernel: Kernel<P>) {
        switch self {
        case .call:
            kernel.finish(caller, status)
            kernel.wake(caller)
        case .exception, .startup, .recall:
            let e = caller.pendingEvent
            kernel.stop(caller, "event handler for vector \(e.vector) is gone (\(status))", vector: e.vector,
                        errorCode: e.errorCode, address: e.address)
        case .vmExit:
            let e = caller.pendingEvent
            kernel.stop(caller, "exit handler for exit \(e.vector) is gone (\(status))", vector: e.vector,
                        errorCode: 0, address: 0)
        }
    }
}
