import Foundation
import Kernel
import KernelABI

/// Runs user code for `SimPlatform.enterUser`. The EC to run is found from its context: if a thread of this
/// executor stopped at exactly this resume address with this token (kept in r15, which host code never uses),
/// that thread continues; otherwise the "instruction" at rip is fetched through the EC's page tables (user,
/// execute: an unmapped or non-executable page faults like an instruction fetch) and a new thread starts the
/// program entry the code record names. Only one thread runs at a time (`SimBaton`).
public final class SimUserExecutor {
    public let machine: SimMachine
    public let programs: SimProgramRegistry
    /// The permissions of the PD being run (nil: no ports).
    var ioPermissions: IOPermissionBitmap?
    private let baton = SimBaton()
    private var threads: [UInt64: SimUserThread] = [:]
    private var nextToken: UInt64 = 1
    /// `SimUserPlatform.componentState` per address-space root.
    var componentStates: [UInt64: AnyObject] = [:]

    init(machine: SimMachine, programs: SimProgramRegistry) {
        self.machine = machine
        self.programs = programs
    }

    deinit { shutdown() }

    /// Live EC threads (started and not returned or cancelled).
    public var threadCount: Int { threads.count }

    func run(_ context: inout UserContext, ioPermissions: IOPermissionBitmap?) -> Exit {
        self.ioPermissions = ioPermissions
        let thread: SimUserThread
        if let t = threads[context.r15], t.resumeAddress == context.rip {
            thread = t
        } else {
            if let stale = threads[context.r15] { cancel(stale) }
            switch fetch(context) {
            case .failure(let exit): return exit
            case .success(let started): thread = started
            }
            // A fresh start on the stack of a stopped thread in the same address space is the same EC restarted
            // (a portal handler entered again after its reply): that thread can never be resumed, so end it.
            // Two live ECs cannot share a stack on hardware either. A zero stack pointer identifies nothing.
            if context.rsp != 0 {
                for stale in threads.values.sorted(by: { $0.token < $1.token })
                where stale.token != thread.token && stale.context.rsp == context.rsp
                    && root(of: stale.context) == root(of: context) {
                    cancel(stale)
                }
            }
        }
        thread.context = context
        baton.handOff(from: SimBaton.kernel, to: thread.token)
        context = thread.context
        if thread.finished { threads[thread.token] = nil }
        return thread.exit
    }

    /// Ends every thread (the machine is being discarded).
    public func shutdown() {
        for thread in threads.values.sorted(by: { $0.token < $1.token }) { cancel(thread) }
    }

    /// The thread stops at its current access, never to run user code again.
    private func cancel(_ thread: SimUserThread) {
        threads[thread.token] = nil
        thread.cancelled = true
        baton.handOff(from: SimBaton.kernel, to: thread.token)
    }

    private enum Fetch { case success(SimUserThread), failure(Exit) }

    private func fetch(_ context: UserContext) -> Fetch {
        let rip = context.rip
        guard rip % 8 == 0 else { return .failure(invalidOpcode("misaligned instruction pointer \(simHex(rip))")) }
        var words: [UInt64] = []
        for i in 0..<UInt64(4) {
            switch translate(root: root(of: context), address: rip + 8 * i, access: .execute) {
            case .success(let physical):
                words.append((try? machine.memory.read64(physical)) ?? 0)
            case .failure(let fault):
                return .failure(fault.exit)
            }
        }
        guard let record = SimCodeRecord(words: words) else {
            return .failure(invalidOpcode("no code record at \(simHex(rip))"))
        }
        guard let program = programs.program(id: record.programID) else {
            return .failure(invalidOpcode("code record at \(simHex(rip)) names unknown program \(simHex(record.programID))"))
        }
        guard record.entryIndex < UInt64(program.entries.count) else {
            return .failure(invalidOpcode("program \(program.name) has no entry \(record.entryIndex)"))
        }
        let thread = SimUserThread(token: nextToken, program: program, entryIndex: Int(record.entryIndex),
                                   recordAddress: rip, context: context)
        nextToken += 1
        threads[thread.token] = thread
        machine.record(.programStarted(name: program.name, rip: rip))
        let platform = SimUserPlatform(executor: self, thread: thread)
        let argument = context.rdi
        let entry = program.entries[Int(record.entryIndex)]
        thread.start { [baton] in
            baton.wait(for: thread.token)
            if thread.cancelled { baton.release(to: SimBaton.kernel); return }
            entry(platform, argument)
            // Falling off the end of a host function: like running into bytes that are no instruction.
            platform.programReturned()
        }
        return .success(thread)
    }

    private func invalidOpcode(_ why: String) -> Exit {
        machine.record(.note(why))
        return .exception(vector: 6, errorCode: 0, faultAddress: 0)
    }

    func root(of context: UserContext) -> UInt64 {
        context.addressSpaceRoot != 0 ? context.addressSpaceRoot : machine.cpu.activeRoot
    }

    /// A user-mode translation, or the exit the CPU would take.
    func translate(root: UInt64, address: UInt64, access: SimAccess) -> Result<UInt64, ExitError> {
        do throws(SimTranslationFault) {
            return .success(try machine.walker.translate(root: root, address: address, access: access,
                                                          privilege: .user).physical)
        } catch {
            switch error {
            case .pageFault(let address, let code):
                return .failure(ExitError(.exception(vector: 14, errorCode: code, faultAddress: address)))
            case .nonCanonical:
                return .failure(ExitError(.exception(vector: 13, errorCode: 0, faultAddress: 0)))
            case .physical(let problem):
                machine.reportKernelFault("page walk for user access: \(problem)")
                return .failure(ExitError(.exception(vector: 18, errorCode: 0, faultAddress: 0)))
            }
        }
    }

    // MARK: thread side (called on EC threads while they hold the baton)

    /// Stops the thread with `exit` until the kernel resumes it at its resume address.
    func suspend(_ thread: SimUserThread, _ exit: Exit) {
        thread.exit = exit
        thread.context.rip = thread.resumeAddress
        thread.context.r15 = thread.token
        baton.handOff(from: thread.token, to: SimBaton.kernel)
        if thread.cancelled {
            // Never run past the access that stopped us: end the host thread here (its frames are abandoned).
            baton.release(to: SimBaton.kernel)
            pthread_exit(nil)
        }
    }

    /// The entry function returned: report #UD at the return address and end the thread.
    func finish(_ thread: SimUserThread) {
        machine.record(.programReturned(name: thread.program.name))
        thread.finished = true
        thread.exit = .exception(vector: 6, errorCode: 0, faultAddress: 0)
        thread.context.rip = thread.recordAddress + SimCodeRecord.returnOffset
        thread.context.r15 = 0
        baton.release(to: SimBaton.kernel)
    }
}

/// An `Exit` carried as a failure value.
struct ExitError: Error {
    let exit: Exit
    init(_ exit: Exit) { self.exit = exit }
}
