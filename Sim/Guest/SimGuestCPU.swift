import CUnicorn

/// One virtual CPU of a VM, run on Unicorn 2.1.4 under the simulator's model of what a hypervisor sees: intercepts
/// (`SimGuestControls`) end `run` with a vendor-neutral `SimGuestExit`; guest-physical memory comes from the caller's
/// nested mapping (`SimGuestNestedLookup`) through a tagged TLB; events are injected through the guest's IDT; time is
/// virtual (`clock`, guest instructions). Several instances coexist; each owns its engine and nothing is shared.
/// One thread drives an instance at a time; the caller's closures (lookup, controls) run on that thread, inside `run`.
public final class SimGuestCPU {
    public let memory: SimPhysicalMemory
    public let nested: SimGuestNestedLookup
    /// Virtual time: guest instructions executed (plus one per delivered event). RDTSC reads clock + TSC offset.
    @exclusivity(unchecked) public var clock: UInt64 = 0

    let engine: UnicornEngine
    let tlb = SimGuestTLB()
    var capstone: [Int: csh] = [:]
    /// The ASID whose translations are mapped in the engine, and those mappings.
    var loadedASID: UInt32?
    var mapped: [UInt64: SimGuestNestedMapping] = [:]
    /// Host addresses of the mapped guest pages (for the accesses the guest CPU makes itself).
    var hostPages: [UInt64: UnsafeMutableRawPointer] = [:]

    struct Block { var size: UInt32; var count: UInt32; var csBase: UInt64; var offsets: [UInt16] }
    struct Special { var bits: Int; var csBase: UInt64; var index: UInt32 }
    @exclusivity(unchecked) var blocks: [UInt64: Block] = [:]
    var specials: [UInt64: Special] = [:]
    // The hot state of the block hook is touched only on the thread that runs the vCPU: no exclusivity checks.
    /// The block running now: where it starts, the clock before it, where its instructions start.
    @exclusivity(unchecked) var blockClock: UInt64 = 0
    @exclusivity(unchecked) var blockAddress: UInt64 = 0
    @exclusivity(unchecked) var currentOffsets: [UInt16] = []
    var currentCSBase: UInt64 { blocks[blockAddress]?.csBase ?? 0 }
    @exclusivity(unchecked) var blocksStale = false

    enum Stop {
        case exit(SimGuestExit)
        case interrupt(vector: UInt8, cr2: UInt64)
        case invalidOpcode
        case memory(guestPhysical: UInt64, access: SimGuestAccess)
        case broken(SimGuestEntryError)
        case budget
        case recall
        /// Enter again at rip (a block was rescanned and its old translation dropped).
        case restart
        case window
        case halt(nextRip: UInt64)
        case syscall(nextRip: UInt64)
        case fault(SimGuestFault)
    }
    // Per run.
    var controls = SimGuestControls()
    var asid: UInt32 = 0
    @exclusivity(unchecked) var stop: Stop?
    @exclusivity(unchecked) var budgetEnd: UInt64 = 0
    @exclusivity(unchecked) var watchWindow = false
    /// The block (at this linear address) that runs in an interrupt shadow before the window is checked.
    @exclusivity(unchecked) var windowGrace: UInt64?
    var tscOffset: UInt64 = 0
    /// A recall not yet answered by a `.recall` exit (kept across runs: never lost).
    @exclusivity(unchecked) var recallPending = false
    @exclusivity(unchecked) var running = false

    public init(memory: SimPhysicalMemory, nested: @escaping SimGuestNestedLookup) throws(SimGuestEntryError) {
        self.memory = memory
        self.nested = nested
        let layout: UnicornContextLayout
        switch UnicornContextLayout.shared {
        case .success(let found): layout = found
        case .failure(let error): throw error
        }
        engine = try UnicornEngine(layout: layout)
        cu_use_exits(engine.uc)
        for (bits, mode) in [(16, CS_MODE_16), (32, CS_MODE_32), (64, CS_MODE_64)] {
            var handle: csh = 0
            guard cs_open(CS_ARCH_X86, mode, &handle) == CS_ERR_OK else {
                throw .engine(code: 0, what: "capstone for \(bits)-bit code")
            }
            capstone[bits] = handle
        }
        installHooks()
    }

    deinit {
        for var handle in capstone.values { cs_close(&handle) }
    }

    // MARK: running

    /// Forces an exit: at the next block boundary if the vCPU is running (a device model may call it from a port
    /// passthrough), otherwise on the next `run`, before any guest instruction.
    public func recall() {
        recallPending = true
        if running {
            if stop == nil { stop = .recall }
            engine.stop()
        }
    }

    /// Runs the vCPU from `state` until an exit, at most `budget` guest instructions. `state` is updated to the
    /// exit's state. A refused state returns `.failedEntry` without running.
    public func run(_ state: inout SimGuestState, controls: SimGuestControls, asid: UInt32 = 1,
                    budget: UInt64 = 1_000_000) -> SimGuestExit {
        if let error = SimGuestEntryCheck.check(state) { return .failedEntry(error) }
        self.controls = controls
        self.asid = asid
        tscOffset = state.tscOffset
        budgetEnd = clock &+ budget
        windowGrace = nil
        switchASID(asid)
        defer { state.tscOffset = tscOffset }

        var stalls = 0
        while true {
            if recallPending {
                recallPending = false
                return .recall
            }
            if let exit = deliverPending(&state) { return exit }
            if state.activity == .halted {
                return controls.interruptWindow && canTakeInterrupt(state) ? .interruptWindow : .halted
            }
            if controls.interruptWindow && canTakeInterrupt(state) && state.pendingEvent == nil { return .interruptWindow }
            if clock >= budgetEnd { return .budgetExhausted }
            watchWindow = controls.interruptWindow || state.pendingEvent != nil
            engine.loadState(state)
            stop = nil
            let (startRip, startClock) = (state.rip, clock)
            running = true
            let err = engine.start(at: state.rip)
            running = false
            let cause = stop
            stop = nil
            engine.storeState(into: &state)
            if cause == nil && err == UC_ERR_OK && state.rip == startRip && clock == startClock {
                // The engine returned at once without running anything (seen after a partial context load):
                // load the whole context next time; an engine that stays stuck stops the vCPU.
                stalls += 1
                engine.invalidateHeldState()
                if stalls > 3 { return .shutdown }
                continue
            }
            stalls = 0
            if let exit = handle(cause, err, &state) { return exit }
        }
    }

    func canTakeInterrupt(_ state: SimGuestState) -> Bool { state.interruptsEnabled && !state.interruptShadow }

    /// Delivers the pending event if the guest can take it now; an exit if delivery needs the hypervisor.
    private func deliverPending(_ state: inout SimGuestState) -> SimGuestExit? {
        guard let event = state.pendingEvent else { return nil }
        if event.type == .externalInterrupt && !canTakeInterrupt(state) { return nil }
        state.pendingEvent = nil
        state.activity = .running
        clock &+= 1
        return inject(event, &state)
    }

    /// Decides what one stop of the engine means: an exit to return, or nil to continue.
    private func handle(_ cause: Stop?, _ err: uc_err, _ state: inout SimGuestState) -> SimGuestExit? {
        switch cause {
        case .exit(let exit):
            return exit
        case .budget:
            return .budgetExhausted
        case .recall:
            recallPending = false
            return .recall
        case .restart:
            engine.invalidateHeldState() // a full load flushes the engine's lookup caches too
            return nil
        case .window:
            if state.interruptShadow {
                // One more instruction runs before the window opens (after STI, MOV SS): QEMU translates the
                // instruction in the shadow as a block of its own, so the window is checked again at the next block.
                windowGrace = state.cs.base &+ state.rip
            }
            return nil // the loop delivers the pending interrupt or reports the window
        case .halt(let nextRip):
            state.rip = nextRip
            state.activity = .halted
            return nil
        case .syscall(let nextRip):
            clock &+= 1
            do {
                try SimGuestSyscall.perform(&state, nextRip: nextRip)
            } catch {
                return raise(error, &state)
            }
            return nil
        case .fault(let fault):
            return raise(fault, &state)
        case .memory(let guestPhysical, let access):
            return .nestedPageFault(guestPhysical: guestPhysical, access: access)
        case .broken(let error):
            return .failedEntry(error)
        case .invalidOpcode:
            return exception(6, errorCode: nil, cr2: nil, &state)
        case .interrupt(let vector, let cr2):
            let info = engine.pendingExceptionInfo()
            if info.isSoftware {
                return softwareInterrupt(vector, &state)
            }
            if vector == 6 { return exception(6, errorCode: nil, cr2: nil, &state) }
            if vector == 14 {
                // Unicorn's own walk faults when a guest page table is not mapped in the engine yet: walk it here
                // (mapping the tables, or finding the nested fault), then retry the instruction.
                let access: SimGuestAccess = info.errorCode & 0x10 != 0 ? .execute : info.errorCode & 2 != 0 ? .write : .read
                do {
                    let mappedBefore = mapped.count
                    let physical = try walker(state).translate(cr2, access: access, user: info.errorCode & 4 != 0)
                    _ = try translate(physical, access)
                    if mapped.count != mappedBefore { return nil }
                } catch .nested(let guestPhysical, let access) {
                    return .nestedPageFault(guestPhysical: guestPhysical, access: access)
                } catch .broken(let error) {
                    return .failedEntry(error)
                } catch {}
                return exception(14, errorCode: info.errorCode, cr2: cr2, &state)
            }
            let withCode: Set<UInt8> = [8, 10, 11, 12, 13, 14, 17, 21, 29, 30]
            return exception(vector, errorCode: withCode.contains(vector) ? info.errorCode : nil, cr2: nil, &state)
        case nil:
            if err == UC_ERR_OK { return nil } // the engine returned early (a TB restart); just continue
            // The engine stopped on its own: QEMU's shutdown after a fault it could not deliver.
            return .shutdown
        }
    }

    /// An exception raised by the guest: an exit if the bitmap asks for it, otherwise delivered to the guest.
    private func exception(_ vector: UInt8, errorCode: UInt32?, cr2: UInt64?, _ state: inout SimGuestState) -> SimGuestExit? {
        if vector == 6, let bytes = instructionBytes(at: state, count: 15),
           let (instruction, length) = SimGuestInstruction.decode(bytes, bits: codeBits(state)),
           case .virtualization(let kind) = instruction {
            return .virtualization(kind, nextRip: state.rip &+ UInt64(length))
        }
        return raise(.exception(vector: vector, errorCode: errorCode, cr2: cr2), &state)
    }

    func raise(_ fault: SimGuestFault, _ state: inout SimGuestState) -> SimGuestExit? {
        switch fault {
        case .nested(let guestPhysical, let access): return .nestedPageFault(guestPhysical: guestPhysical, access: access)
        case .broken(let error): return .failedEntry(error)
        case .exception(let vector, let errorCode, let cr2):
            if controls.exceptionBitmap & (1 << UInt32(vector & 31)) != 0 && vector < 32 {
                if let cr2 { state.cr2 = cr2 }
                return .exception(vector: vector, errorCode: errorCode, cr2: cr2)
            }
            clock &+= 1
            if let cr2 { state.cr2 = cr2 }
            return inject(SimGuestEvent(vector: vector, type: .exception, errorCode: errorCode), &state)
        }
    }

    private func softwareInterrupt(_ vector: UInt8, _ state: inout SimGuestState) -> SimGuestExit? {
        // rip is already past INT n / INT3 / INTO. INT3 and INTO are exceptions #BP/#OF for the bitmap.
        if (vector == 3 || vector == 4) && controls.exceptionBitmap & (1 << UInt32(vector)) != 0 {
            var before = state
            before.rip &-= 1
            let oneByte = instructionBytes(at: before, count: 1).map { $0 == [0xcc] || $0 == [0xce] } ?? true
            state.rip &-= oneByte ? 1 : 2 // INT3/INTO, or INT 3 / INT 4 written as CD xx
            return .exception(vector: vector, errorCode: nil, cr2: nil)
        }
        clock &+= 1
        return inject(SimGuestEvent(vector: vector, type: .softwareInterrupt), &state)
    }

    func walker(_ state: SimGuestState) -> SimGuestPageWalker {
        SimGuestPageWalker(state: state) { [unowned self] (guestPhysical: UInt64, size: Int) throws(SimGuestFault) -> UInt64 in
            let pointer = try self.hostPointer(guestPhysical, .read)
            return size == 4 ? UInt64(pointer.loadUnaligned(as: UInt32.self)) : pointer.loadUnaligned(as: UInt64.self)
        }
    }

    func codeBits(_ state: SimGuestState) -> Int {
        if state.cr0 & 1 == 0 { return 16 }
        if state.longModeActive && state.cs.longMode { return 64 }
        return state.cs.defaultBig ? 32 : 16
    }

    func instructionBytes(at state: SimGuestState, count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        let linear = state.cs.base &+ state.rip
        for n in stride(from: count, through: 1, by: -1) {
            if bytes.withUnsafeMutableBytes({ engine.readLinear(linear, into: $0.baseAddress!, count: n) }) {
                return Array(bytes.prefix(n))
            }
        }
        return nil
    }
}
