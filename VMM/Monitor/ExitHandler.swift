import KernelABI
import UserRuntime

/// The exit handler of one vCPU (global handler `handler`, entry slot 1 + handler): the kernel starts it afresh at
/// this entry for every exit of its vCPU, with the vCPU's state at `GuestStateLayout` words in its UTCB. It does
/// what a PC would (CPUID from the fixed model, COM1, the test latch, the debug-exit port, HLT with a 1 ms wakeup)
/// and replies; what it cannot handle stops that VM alone, with a report naming VM, exit and rip.
public func vmmExitPortal<P: UserPlatform>(_ platform: P, handler: Int) {
    // The kernel starts the handler afresh for its next exit, so this frame is abandoned at `reply`: everything the
    // exit allocated must be released before (it all lives in `serveExit`, which has returned by then).
    let sys = SystemCalls(platform)
    switch serveExit(platform, handler: handler) {
    case .reply: _ = sys.reply()
    case .park(let sm): park(sys, sm)
    }
}

/// What the handler does once the exit is served.
enum NextStep {
    case reply
    case park(UInt64)
}

private func serveExit<P: UserPlatform>(_ platform: P, handler: Int) -> NextStep {
    let utcb = UTCB(platform: platform, base: VMMLayout.handlerUTCB(handler))
    let id = utcb.portalID
    let number = VMMLayout.vm(ofPortal: id), vcpu = VMMLayout.vcpu(ofPortal: id)
    guard let info = try? ComponentStartInfo.read(platform, at: ComponentLayout.startInfo), number < info.vms.count else {
        return .park(VMMLayout.idleSM)
    }
    let control = VMControlBlock(platform: platform, base: info.heapBase + UInt64(number) * VMControlBlock<P>.bytes)
    if control.stopped { return .park(VMMLayout.parkSM(number, vcpu)) }
    var exit = ExitHandling(platform: platform, utcb: utcb, info: info, control: control, number: number, vcpu: vcpu)
    control.exits = control.exits &+ 1
    let machine = VMMDeviceTable<P>.machine(platform, vm: number)
    machine?.bind(to: platform, utcb: VMMLayout.handlerUTCB(handler))
    let outcome: ExitOutcome
    let reason = exit.state.reason, started = platform.timestamp()
    if let machine { outcome = exit.handlePC(machine) } else { outcome = exit.handle() }
    machine?.exitStatistics.record(reason, ticks: platform.timestamp() &- started)
    switch outcome {
    case .resume:
        if let machine { exit.prepareEntry(machine) }
        exit.state.finish()
        return .reply
    case .ended(let how):
        control.stopped = true
        if let statistics = machine?.exitStatistics { exit.reportExits(statistics) }
        exit.report(exit.vmName + " " + how.description)
        exit.reportEnd(how)
        return .park(VMMLayout.parkSM(number, vcpu))
    case .park:
        return .park(VMMLayout.parkSM(number, vcpu))
    case .stop(let why):
        control.stopped = true
        exit.report(exit.vmName + " stopped: " + why + " (exit \(exit.state.reason), rip 0x"
                    + String(exit.state.rip, radix: 16) + ")")
        exit.reportEnd(.stopped)
        return .park(VMMLayout.parkSM(number, vcpu))
    }
}

/// What one exit comes to.
enum ExitOutcome {
    /// Reply: the vCPU goes on with the state written back.
    case resume
    /// Keep the vCPU in this exit (a secondary vCPU before its VMM starts it).
    case park
    /// The VM is dead: report it and keep every vCPU out of the guest.
    case stop(String)
    /// The guest ended itself (powered off, reset): reported as that, and the VM stops like a dead one.
    case ended(VMEndReport.How)
}

struct ExitHandling<P: UserPlatform> {
    let platform: P
    var state: ExitState<P>
    let info: ComponentStartInfo
    let control: VMControlBlock<P>
    let number: Int
    let vcpu: UInt64

    init(platform: P, utcb: UTCB<P>, info: ComponentStartInfo, control: VMControlBlock<P>, number: Int, vcpu: UInt64) {
        self.platform = platform
        self.state = ExitState(utcb: utcb)
        self.info = info
        self.control = control
        self.number = number
        self.vcpu = vcpu
    }

    var sys: SystemCalls<P> { SystemCalls(platform) }
    var vmName: String { String(decoding: control.name, as: UTF8.self) }
    var memory: GuestMemory<P> { GuestMemory(platform: platform, base: control.ramAddress, size: control.ramSize) }

    /// A line on the VMM's log service. The call reuses the UTCB's message words, so the exit's state words must be
    /// read before and written after it (ExitState.finish).
    func report(_ text: String) {
        guard let portal = info.portal(forService: "log") else { return }
        _ = LogClient(utcb: state.utcb, portal: portal).write(String(decoding: info.name, as: UTF8.self) + ": " + text + "\n")
    }

    /// Tells the root task that this VM ended (`VMEndReport`); a refusal is logged, the VM stays stopped either way.
    func reportEnd(_ how: VMEndReport.How) {
        let status = VMEndReport.send(state.utcb, vm: number, how: how)
        if status != .success { report(vmName + ": the root task refused its end report (\(status))") }
    }

    /// The exit table of a guest that ended (`ExitStatistics`), before the line saying how it ended.
    func reportExits(_ statistics: ExitStatistics) {
        let first = statistics.firstEntry.map { " since the first entry at timestamp \($0)" } ?? ""
        report(vmName + ": \(statistics.total) exits" + first)
        for line in statistics.lines() { report(vmName + ": exits: " + line) }
    }

    mutating func handle() -> ExitOutcome {
        let reason = state.reason
        switch reason {
        case VMExit.startup:
            guard vcpu == 0 else { return .park }
            let entry = GuestLoader.Entry(rip: control.entryRIP, rsp: control.entryRSP,
                                          protectedMode: control.entryProtectedMode)
            if entry.protectedMode {
                MultibootLoader.writeEntry(entry, into: &state)
            } else {
                GuestLoader.writeLongModeEntry(entry, into: &state)
            }
            // #UD exits here: a guest's VMMCALL on Intel (or VMCALL on AMD) is the other vendor's hypercall.
            state.set(GuestStateLayout.exceptionBitmap, 1 << Self.invalidOpcode, TransferDescriptor.controls)
            return .resume
        case Self.invalidOpcode: return invalidOpcode()
        case VMExit.cpuid: return cpuid()
        case VMExit.io: return io()
        case VMExit.hlt: return hlt()
        case VMExit.hypercall: return hypercall()
        case VMExit.rdmsr, VMExit.wrmsr: return msr(write: reason == VMExit.wrmsr)
        case VMExit.crAccess: return crWrite()
        case VMExit.nestedPageFault:
            return .stop("touched guest-physical 0x" + String(state.guestPhysical, radix: 16) + ", which is not its RAM")
        case VMExit.shutdown: return .stop("triple fault (shutdown)")
        case VMExit.failedEntry: return .stop("the hardware refused its state")
        case VMExit.recall: return .resume
        default: return .stop("unhandled exit")
        }
    }

    mutating func cpuid() -> ExitOutcome {
        let leaf = UInt32(truncatingIfNeeded: state.register(0)), subleaf = UInt32(truncatingIfNeeded: state.register(1))
        let (a, b, c, d) = CPUIDModel.leaf(leaf, subleaf: subleaf)
        state.setRegister(0, UInt64(a)); state.setRegister(3, UInt64(b))
        state.setRegister(1, UInt64(c)); state.setRegister(2, UInt64(d))
        state.skip(state.instructionLength ?? 2)
        return .resume
    }

    private mutating func io() -> ExitOutcome {
        let q = state.qualification0
        let port = UInt16(truncatingIfNeeded: IOQualification.port(q)), size = IOQualification.size(q)
        let isIn = IOQualification.isIn(q)
        guard size == 1 || size == 2 || size == 4 else { return .stop("I/O of \(size) bytes") }
        if IOQualification.isString(q) { return stringIO(port: port, size: size, isIn: isIn, rep: IOQualification.isRep(q)) }
        if isIn {
            var value: UInt64 = 0
            for i in 0..<size { value |= UInt64(readPort(port &+ UInt16(i))) << (8 * i) }
            let rax = state.register(0)
            let mask: UInt64 = size == 4 ? 0xffff_ffff : (1 << (8 * size)) - 1
            // A 32-bit IN zero-extends into rax; 8 and 16 bits keep the rest.
            state.setRegister(0, size == 4 ? value : (rax & ~mask) | value)
        } else {
            let rax = state.register(0)
            for i in 0..<size {
                if let outcome = writePort(port &+ UInt16(i), UInt8(truncatingIfNeeded: rax >> (8 * i))) { return outcome }
            }
        }
        state.rip = state.qualification1
        return .resume
    }

    /// INS / OUTS (with REP): operands through the guest's own page tables, DS:rsi or ES:rdi, rcx counts.
    private mutating func stringIO(port: UInt16, size: UInt64, isIn: Bool, rep: Bool) -> ExitOutcome {
        let walker = GuestPageWalker(memory: memory, state: state)
        let longMode = state.word(GuestStateLayout.efer) & (1 << 10) != 0
        let addressMask: UInt64 = longMode ? .max : 0xffff_ffff
        let step: UInt64 = state.rflags & (1 << 10) != 0 ? 0 &- size : size
        var count = rep ? state.register(1) & addressMask : 1
        let segment = isIn ? 0 : 3  // es for INS, ds for OUTS
        let segmentBase = longMode ? 0 : state.word(GuestStateLayout.firstSegment + 3 * segment + 2)
        let indexRegister = isIn ? 7 : 6
        var index = state.register(indexRegister)
        while count > 0 {
            for i in 0..<size {
                let linear = (segmentBase &+ (index &+ i)) & addressMask
                guard let physical = walker.physical(linear), memory.contains(physical) else {
                    return .stop("string I/O operand at linear 0x" + String(linear, radix: 16) + " is not guest RAM")
                }
                if isIn {
                    _ = memory.store8(physical, readPort(port &+ UInt16(i)))
                } else if let outcome = writePort(port &+ UInt16(i), memory.load8(physical) ?? 0) {
                    return outcome
                }
            }
            index = index &+ step
            count -= 1
        }
        state.setRegister(indexRegister, index)
        if rep { state.setRegister(1, 0) }
        state.rip = state.qualification1
        return .resume
    }

    private func readPort(_ port: UInt16) -> UInt8 {
        if SerialPortModel.ports.contains(port) { return SerialPortModel.read(port, control) }
        if TestDevice.latchPorts.contains(port) { return TestDevice.read(port, control) }
        return 0xff  // nothing there: the bus floats high
    }

    /// A byte to a port; an outcome when it ends the exit differently (the debug-exit port ends the VM).
    private func writePort(_ port: UInt16, _ value: UInt8) -> ExitOutcome? {
        if SerialPortModel.ports.contains(port) {
            if let line = SerialPortModel.write(port, value, control) { report(vmName + ": " + String(decoding: line, as: UTF8.self)) }
        } else if TestDevice.latchPorts.contains(port) {
            TestDevice.write(port, value, control)
        } else if port == TestDevice.debugExit {
            return .stop("exited through the debug-exit port with status 0x" + String(value, radix: 16)
                         + (value == 0x10 ? " (pass)" : ""))
        }
        return nil
    }

    /// HLT: with interrupts off nothing can wake the guest (the VM stops); with them on, the VMM's tick wakes it
    /// after 1 ms with vector 0x20 (a stand-in until the PC's timers are modelled).
    private mutating func hlt() -> ExitOutcome {
        guard state.rflags & (1 << 9) != 0 else { return .stop("halted with interrupts off") }
        let sm = VMMLayout.parkSM(number, vcpu)
        _ = sys.down(sm: sm, deadline: platform.timestamp() &+ info.ticksPerMillisecond)
        state.skip(state.instructionLength ?? 1)
        state.set(GuestStateLayout.activity, 0, TransferDescriptor.interruptState)
        state.set(GuestStateLayout.interruptShadow, 0, TransferDescriptor.interruptState)
        state.injectInterrupt(0x20)
        return .resume
    }

    /// #UD (exception 6, vector of the exit).
    static var invalidOpcode: UInt64 { 6 }

    /// A #UD the guest raised: the hypercall instruction of the other CPU vendor (VMMCALL 0f 01 d9 raises #UD on
    /// Intel, VMCALL 0f 01 c1 on AMD) is served as the hypercall it means, so a guest needs not know which CPU runs
    /// it (the CPUID model names neither); any other #UD goes back into the guest, as the CPU would have raised it.
    private mutating func invalidOpcode() -> ExitOutcome {
        if let bytes = instructionBytes(3), bytes[0] == 0x0f, bytes[1] == 0x01, bytes[2] == 0xd9 || bytes[2] == 0xc1 {
            return hypercall()
        }
        state.injectException(Self.invalidOpcode)
        return .resume
    }

    /// VMMCALL / VMCALL: rax 1 = "inject exception rbx (error code rcx when rdx is 1)", rax 3 = "inject software
    /// interrupt rbx (INT n: it returns to after the call)", the test guests' way to ask for an injected event;
    /// anything else returns rax = ~0 (unknown call).
    mutating func hypercall() -> ExitOutcome {
        state.skip(state.instructionLength ?? 3)
        switch state.register(0) {
        case 1:
            let vector = state.register(3)
            guard vector < 32, vector != 2 else { state.setRegister(0, ~0); return .resume }
            state.injectException(vector, errorCode: state.register(2) == 1 ? state.register(1) : nil)
            state.setRegister(0, 0)
        case 3:
            let vector = state.register(3)
            guard vector < 256 else { state.setRegister(0, ~0); return .resume }
            state.injectSoftwareInterrupt(vector)
            state.setRegister(0, 0)
        default:
            state.setRegister(0, ~0)
        }
        return .resume
    }

    /// A CR4 write (the only CR access the kernel makes exit): the instruction is decoded here (QEMU's SVM gives
    /// neither the value nor the length), bits the CPU model does not show raise #GP(0) as on such a CPU.
    mutating func crWrite() -> ExitOutcome {
        guard let (cr, register, length) = decodeMoveToCR() else { return .stop("a CR access it cannot decode") }
        guard cr == 4 else { return .stop("a write to CR\(cr)") }
        let value = state.register(register)
        guard value & ~CPUIDModel.cr4Allowed == 0 else {
            state.injectException(13, errorCode: 0)
            return .resume
        }
        state.set(GuestStateLayout.cr4, value, TransferDescriptor.controlRegisters)
        state.skip(length)
        return .resume
    }

    /// The `count` bytes at CS:rip, through the guest's own page tables; nil when one is not guest RAM.
    private func instructionBytes(_ count: Int) -> [UInt8]? {
        let walker = GuestPageWalker(memory: memory, state: state)
        let csBase = state.word(GuestStateLayout.firstSegment + 3 * 1 + 2)
        let longMode = state.word(GuestStateLayout.efer) & (1 << 10) != 0
        var bytes: [UInt8] = []
        for i in 0..<UInt64(count) {
            guard let physical = walker.physical((longMode ? 0 : csBase) &+ state.rip &+ i),
                  let byte = memory.load8(physical) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }

    /// `MOV CRn, reg` at rip: [REX] 0F 22 /r with a register operand; (CR number, general register, length).
    private func decodeMoveToCR() -> (Int, Int, UInt64)? {
        let longMode = state.word(GuestStateLayout.efer) & (1 << 10) != 0
        guard let bytes = instructionBytes(4) else { return nil }
        var rex: UInt8 = 0
        var at = 0
        if longMode, bytes[0] & 0xf0 == 0x40 { rex = bytes[0]; at = 1 }
        guard bytes[at] == 0x0f, bytes[at + 1] == 0x22, bytes[at + 2] >> 6 == 3 else { return nil }
        let modrm = bytes[at + 2]
        let cr = Int((modrm >> 3) & 7) | (rex & 4 != 0 ? 8 : 0)
        let register = Int(modrm & 7) | (rex & 1 != 0 ? 8 : 0)
        return (cr, register, UInt64(at + 3))
    }

    /// RDMSR / WRMSR of MSRs the kernel does not pass through: EFER is the guest's (SVME stays the host's); the
    /// others the model does not have raise #GP(0), as on a CPU without them.
    mutating func msr(write: Bool) -> ExitOutcome {
        let index = state.register(1) & 0xffff_ffff
        let efer: UInt64 = 0xc000_0080
        if index == efer {
            if write {
                let value = (state.register(2) & 0xffff_ffff) << 32 | (state.register(0) & 0xffff_ffff)
                guard value & ~UInt64(0xd01) == 0 else { state.injectException(13, errorCode: 0); return .resume }
                // LMA follows LME and CR0.PG: the CPU keeps it.
                let lma = state.word(GuestStateLayout.efer) & (1 << 10)
                state.set(GuestStateLayout.efer, (value & ~(1 << 10)) | lma, TransferDescriptor.controlRegisters)
            } else {
                let value = state.word(GuestStateLayout.efer) & 0xd01
                state.setRegister(0, value & 0xffff_ffff)
                state.setRegister(2, value >> 32)
            }
            state.skip(state.instructionLength ?? 2)
            return .resume
        }
        state.injectException(13, errorCode: 0)
        return .resume
    }
}
