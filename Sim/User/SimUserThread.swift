import Foundation
import Kernel

/// One EC's host thread, running one entry of a program. It only runs while it holds the baton; it gives it back
/// with an exit (hypercall, fault, preemption) and then continues exactly where it stopped when the kernel
/// re-enters the EC at its resume address.
final class SimUserThread: @unchecked Sendable {
    let token: UInt64
    let program: SimProgram
    let entryIndex: Int
    let recordAddress: UInt64
    /// The EC's registers while the thread holds the baton; copied in and out by the executor.
    var context: UserContext
    var exit: Exit = .hypercall
    var cancelled = false
    var finished = false

    var resumeAddress: UInt64 { recordAddress + SimCodeRecord.resumeOffset }

    init(token: UInt64, program: SimProgram, entryIndex: Int, recordAddress: UInt64, context: UserContext) {
        self.token = token
        self.program = program
        self.entryIndex = entryIndex
        self.recordAddress = recordAddress
        self.context = context
    }

    /// Starts the host thread; it waits for the baton before running any user code.
    func start(_ body: @escaping () -> Void) {
        let box = Unmanaged.passRetained(SimThreadBody(body))
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setstacksize(&attributes, 4 << 20)
        var thread = pthread_t()
        let result = pthread_create(&thread, &attributes, { raw in
            let body = Unmanaged<SimThreadBody>.fromOpaque(raw!).takeRetainedValue()
            body.run()
            return nil
        }, box.toOpaque())
        pthread_attr_destroy(&attributes)
        precondition(result == 0, "cannot create a host thread for a simulated EC (error \(result))")
        pthread_detach(thread)
    }
}

private final class SimThreadBody {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}
