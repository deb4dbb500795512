import KernelABI
import UserRuntime

/// What vmcheck's handler expects next (the state page's word 0).
enum VMCheckStep {
    static let startup: UInt64 = 0
    static let cpuid: UInt64 = 1
    static let out: UInt64 = 2
    static let `in`: UInt64 = 3
    static let hlt: UInt64 = 4
    static let nestedFault: UInt64 = 5
    static let benchmark: UInt64 = 6
    static let failedEntry: UInt64 = 7
    static let done: UInt64 = 8
    /// A good state was given (HostileReply.good): the guest must run to its HLT; then the next hostile reply.
    static let hostileRecover: UInt64 = 9
    /// Hostile reply number (state page word 3) was given: it must come back as exit failedEntry.
    static let hostileRefused: UInt64 = 10
    /// The INVD loop ran: its report is an OUT to port 0x81 with the TSC ticks in eax.
    static let invdBenchmark: UInt64 = 11
}

/// vmcheck's exit handler (entry slot 1): one call per exit of the vCPU. The benchmark's CPUID exits take the short
/// path (emulate, step over, reply: what any VMM does for CPUID); every other exit is checked out of line.
public func vmCheckHandler<P: UserPlatform>(_ platform: P, startInfo: UInt64) {
    typealias G = GuestStateLayout
    let utcb = UTCB(platform: platform, base: VMCheckLayout.handlerUTCB)
    let sys = SystemCalls(platform)
    while true {
        if utcb.word(G.exitReason) == VMExit.cpuid
            && platform.load64(VMCheckLayout.statePage) == VMCheckStep.benchmark
            && utcb.word(G.rip) == VMCheckGuest.benchmarkCPUID {
            utcb.setWord(G.firstGeneralRegister, 0)       // eax..edx: an empty CPUID leaf
            utcb.setWord(G.firstGeneralRegister + 1, 0)
            utcb.setWord(G.firstGeneralRegister + 2, 0)
            utcb.setWord(G.firstGeneralRegister + 3, 0)
            utcb.setWord(G.rip, VMCheckGuest.benchmarkCPUID + utcb.word(G.instructionLength))
            utcb.setWord(G.mtd, TransferDescriptor.generalRegisters | TransferDescriptor.instructionPointer)
        } else if !VMCheck(platform: platform).check() {
            // Nothing more to run: wait forever (the vCPU stays in its exit; the kernel stops when all wait).
            _ = sys.createSM(VMCheckLayout.handlerIdleSM, count: 0)
            while sys.down(sm: VMCheckLayout.handlerIdleSM) == .success {}
        }
        _ = sys.reply()
    }
}

/// One checked exit: compares what the kernel delivered with what the guest's code must cause, prints the result
/// and writes the reply (or returns false: stop).
struct VMCheck<P: UserPlatform> {
    typealias G = GuestStateLayout
    let platform: P
    var utcb: UTCB<P> { UTCB(platform: platform, base: VMCheckLayout.handlerUTCB) }

    func word(_ i: Int) -> UInt64 { utcb.word(i) }
    func set(_ i: Int, _ value: UInt64) { utcb.setWord(i, value) }
    var step: UInt64 { platform.load64(VMCheckLayout.statePage) }
    /// The hostile reply being tried (HostileReply), the state page's word 3.
    var hostileCase: Int {
        get { Int(truncatingIfNeeded: platform.load64(VMCheckLayout.statePage + 24)) }
        nonmutating set { platform.store64(VMCheckLayout.statePage + 24, UInt64(newValue)) }
    }
    func advance(to next: UInt64) { platform.store64(VMCheckLayout.statePage, next) }
    var reason: UInt64 { word(G.exitReason) }
    var rip: UInt64 { word(G.rip) }
    var rax: UInt64 { word(G.firstGeneralRegister) }
    var lengthKnown: Bool { word(G.qualificationFlags) & G.lengthKnown != 0 }
    /// The CS segment's index among GuestStateLayout's segments (es, cs, ss, ...).
    var csSegment: Int { 1 }

    /// Logs `text` through the log service. The call overwrites the UTCB, which holds the exit: it is put back.
    func log(_ text: String) {
        let saved = (0..<G.words).map { word($0) }
        _ = LogClient(utcb: utcb, portal: platform.load64(VMCheckLayout.statePage + 8)).write("vmcheck: " + text + "\n")
        for (i, value) in saved.enumerated() { set(i, value) }
    }

    func pass(_ name: String) { log("PASS " + name) }

    /// Reports a failed check and stops.
    func fail(_ name: String, _ why: String) -> Bool {
        log("FAIL \(name): \(why) (exit \(reason), rip \(hex(rip)), qualification \(hex(word(G.qualification0))), guest-physical \(hex(word(G.guestPhysical))))")
        advance(to: VMCheckStep.done)
        log("done")
        return false
    }

    /// Expects exit `exit` at guest rip `at`.
    func expect(_ name: String, exit: UInt64, at: UInt64? = nil) -> String? {
        if reason != exit { return "exit \(reason), expected \(exit)" }
        if let at, rip != at { return "rip \(hex(rip)), expected \(hex(at))" }
        return nil
    }

    func reply(rip next: UInt64, mtd: UInt64 = 0, step next2: UInt64) -> Bool {
        set(G.rip, next)
        set(G.mtd, TransferDescriptor.instructionPointer | mtd)
        advance(to: next2)
        return true
    }

    func check() -> Bool {
        switch step {
        case VMCheckStep.startup:
            let name = "startup"
            if let why = expect(name, exit: VMExit.startup) { return fail(name, why) }
            let cs = word(G.firstSegment + 3 * csSegment)
            guard rip == 0xfff0, cs & 0xffff == 0xf000, word(G.cr0) == 0x6000_0010 else {
                return fail(name, "not the reset state: cs \(hex(cs & 0xffff)) cr0 \(hex(word(G.cr0)))")
            }
            pass(name)
            // Real mode at 0:entry, with a stack for the #UD of a VMMCALL on Intel.
            set(G.firstSegment + 3 * csSegment, UInt64(0x9b) << 16)
            set(G.firstSegment + 3 * csSegment + 1, 0xffff)
            set(G.firstSegment + 3 * csSegment + 2, 0)
            set(G.rsp, VMCheckGuest.stackTop)
            set(G.rflags, 0x2)
            return reply(rip: VMCheckGuest.entry, mtd: TransferDescriptor.segments | TransferDescriptor.stack,
                         step: VMCheckStep.cpuid)
        case VMCheckStep.cpuid:
            let name = "cpuid"
            if let why = expect(name, exit: VMExit.cpuid, at: VMCheckGuest.cpuidTest) { return fail(name, why) }
            guard lengthKnown, word(G.instructionLength) == 2 else {
                return fail(name, "instruction length \(word(G.instructionLength)) (known: \(lengthKnown)), expected 2")
            }
            pass(name + " (instruction length 2 known)")
            for i in 0..<4 { set(G.firstGeneralRegister + i, 0) }
            return reply(rip: rip + 2, mtd: TransferDescriptor.generalRegisters, step: VMCheckStep.out)
        case VMCheckStep.out:
            let name = "out"
            if let why = expect(name, exit: VMExit.io, at: VMCheckGuest.outTest) { return fail(name, why) }
            let q = word(G.qualification0)
            guard IOQualification.port(q) == VMCheckGuest.port, IOQualification.size(q) == 1, !IOQualification.isIn(q),
                  !IOQualification.isString(q), rax & 0xff == UInt64(VMCheckGuest.outValue),
                  word(G.qualification1) == rip + 2, lengthKnown, word(G.instructionLength) == 2 else {
                return fail(name, "qualification \(hex(q)) next rip \(hex(word(G.qualification1))) al \(hex(rax & 0xff))")
            }
            pass("out to port 0x80 with value 0x42 (next rip known)")
            return reply(rip: word(G.qualification1), step: VMCheckStep.in)
        case VMCheckStep.in:
            let name = "in"
            if let why = expect(name, exit: VMExit.io, at: VMCheckGuest.inTest) { return fail(name, why) }
            let q = word(G.qualification0)
            guard IOQualification.port(q) == VMCheckGuest.port, IOQualification.size(q) == 1, IOQualification.isIn(q),
                  word(G.qualification1) == rip + 2 else {
                return fail(name, "qualification \(hex(q)) next rip \(hex(word(G.qualification1)))")
            }
            pass("in from port 0x80")
            set(G.firstGeneralRegister, rax & ~0xff | VMCheckGuest.inValue)
            return reply(rip: word(G.qualification1), mtd: TransferDescriptor.generalRegisters, step: VMCheckStep.hlt)
        case VMCheckStep.hlt:
            let name = "hlt"
            if let why = expect(name, exit: VMExit.hlt, at: VMCheckGuest.hltTest) { return fail(name, why) }
            guard lengthKnown, word(G.instructionLength) == 1, rax & 0xff == VMCheckGuest.inValue else {
                return fail(name, "length \(word(G.instructionLength)), al \(hex(rax & 0xff)) (the in value 0x5a)")
            }
            pass("hlt (the in value arrived in al)")
            return reply(rip: rip + 1, step: VMCheckStep.nestedFault)
        case VMCheckStep.nestedFault:
            let name = "nested page fault"
            if let why = expect(name, exit: VMExit.nestedPageFault, at: VMCheckGuest.faultTest) { return fail(name, why) }
            guard word(G.guestPhysical) == VMCheckGuest.unmapped,
                  word(G.qualification0) == NestedFaultQualification.read else {
                return fail(name, "guest-physical \(hex(word(G.guestPhysical))) access \(hex(word(G.qualification0)))")
            }
            pass("nested page fault reading unmapped guest-physical 0x8000")
            return reply(rip: rip + 3, step: VMCheckStep.invdBenchmark)
        case VMCheckStep.invdBenchmark:
            let name = "invd report"
            if let why = expect(name, exit: VMExit.io, at: VMCheckGuest.invdReport) { return fail(name, why) }
            guard IOQualification.port(word(G.qualification0)) == VMCheckGuest.reportPort else {
                return fail(name, "qualification \(hex(word(G.qualification0)))")
            }
            log("invd loop \((rax & 0xffff_ffff) / VMCheckGuest.loops) tsc ticks per iteration (an exit the kernel "
                + "completes; the simulator: no exit)")
            return reply(rip: word(G.qualification1), step: VMCheckStep.benchmark)
        case VMCheckStep.benchmark:
            let name = "hypercall"
            if let why = expect(name, exit: VMExit.hypercall) { return fail(name, why) }
            guard rip == VMCheckGuest.hypercall || rip == VMCheckGuest.hypercallAfterInvalidOpcode else {
                return fail(name, "rip \(hex(rip)), expected the VMMCALL or its #UD handler's VMCALL")
            }
            guard lengthKnown, word(G.instructionLength) == 3 else {
                return fail(name, "instruction length \(word(G.instructionLength)), expected 3")
            }
            pass("hypercall (instruction length 3 known) after \(VMCheckGuest.loops) cpuid exits")
            log("cpuid exit round trip \((rax & 0xffff_ffff) / VMCheckGuest.loops) tsc ticks")
            // CR0.PG without CR0.PE: no CPU enters that.
            set(G.cr0, 0x8000_0000)
            return reply(rip: rip + 3, mtd: TransferDescriptor.controlRegisters, step: VMCheckStep.failedEntry)
        case VMCheckStep.failedEntry:
            let name = "failed entry"
            if let why = expect(name, exit: VMExit.failedEntry) { return fail(name, why) }
            pass("failed entry (CR0.PG without CR0.PE)")
            hostileCase = 0
            set(G.mtd, HostileReply.good(self))
            advance(to: VMCheckStep.hostileRecover)
            return true
        case VMCheckStep.hostileRecover:
            let name = "recovery"
            if let why = expect(name, exit: VMExit.hlt, at: HostileReply.haltAt) { return fail(name, why) }
            guard hostileCase < HostileReply.count else {
                pass("the vCPU ran again after each of \(HostileReply.count) refused states")
                advance(to: VMCheckStep.done)
                log("done")
                return false
            }
            set(G.mtd, HostileReply.bad(hostileCase, self))
            advance(to: VMCheckStep.hostileRefused)
            return true
        case VMCheckStep.hostileRefused:
            let what = HostileReply.names[hostileCase]
            if let why = expect(what, exit: VMExit.failedEntry) { return fail("refused: " + what, why) }
            pass("refused: \(what) (failed entry)")
            hostileCase += 1
            set(G.mtd, HostileReply.good(self))
            advance(to: VMCheckStep.hostileRecover)
            return true
        default:
            return false
        }
    }
}

func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
