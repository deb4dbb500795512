
/// How a guest-physical access was made (the nested-page-fault qualification).
public enum SimGuestAccess: Equatable, Sendable {
    case read
    case write
    case execute
}

/// An IN/OUT/INS/OUTS the hypervisor intercepted, decoded before it executed.
public struct SimGuestIOExit: Equatable, Sendable {
    public var port: UInt16
    public var size: Int
    public var isIn: Bool
    public var isString: Bool
    public var isRep: Bool
    public var nextRip: UInt64

    public init(port: UInt16, size: Int, isIn: Bool, isString: Bool, isRep: Bool, nextRip: UInt64) {
        self.port = port
        self.size = size
        self.isIn = isIn
        self.isString = isString
        self.isRep = isRep
        self.nextRip = nextRip
    }
}

/// SVM and VMX instructions: a guest never executes them, they always exit.
public enum SimGuestVirtualizationInstruction: String, Equatable, Sendable, CaseIterable {
    case vmrun, vmmcall, vmload, vmsave, stgi, clgi, skinit, invlpga
    case vmcall, vmlaunch, vmresume, vmxoff, vmxon, vmptrld, vmptrst, vmclear, vmread, vmwrite, invept, invvpid, vmfunc
}

/// Why the guest entry was refused: the state would fail a hardware entry check. Nothing ran.
public enum SimGuestEntryError: Error, Equatable, Sendable, CustomStringConvertible {
    case pagingWithoutProtection
    case longModeWithoutPAE
    case longModeMismatch(efer: UInt64, cr0: UInt64)
    case reservedBits(register: String, value: UInt64)
    case badSegment(name: String, attributes: UInt16)
    case badEvent(SimGuestEvent)
    /// The nested mapping names host memory beyond the machine's RAM (the caller's tables are wrong).
    case mappingBeyondRAM(guestPhysical: UInt64, hostPhysical: UInt64)
    /// The engine refused the state (a Unicorn error code); the guest did not run.
    case engine(code: Int, what: String)

    public var description: String {
        switch self {
        case .pagingWithoutProtection: return "CR0.PG is set without CR0.PE"
        case .longModeWithoutPAE: return "long mode (EFER.LME with CR0.PG) requires CR4.PAE"
        case .longModeMismatch(let efer, let cr0):
            return "EFER.LMA does not match EFER.LME and CR0.PG (efer \(simHex(efer)), cr0 \(simHex(cr0)))"
        case .reservedBits(let register, let value): return "reserved bits set in \(register) (\(simHex(value)))"
        case .badSegment(let name, let attributes): return "segment \(name) has invalid attributes \(simHex(UInt64(attributes)))"
        case .badEvent(let event): return "invalid event injection \(event)"
        case .mappingBeyondRAM(let gpa, let hpa):
            return "guest-physical \(simHex(gpa)) maps to host-physical \(simHex(hpa)) beyond RAM"
        case .engine(let code, let what): return "the engine refused \(what) (unicorn error \(code))"
        }
    }
}

/// Why the guest stopped: vendor-neutral, as a hypervisor sees it. Instruction exits stop before the instruction has
/// any effect; `nextRip` is where the guest continues when the hypervisor emulates it (rip stays at the instruction).
public enum SimGuestExit: Equatable, Sendable {
    case cpuid(nextRip: UInt64)
    case hlt(nextRip: UInt64)
    case io(SimGuestIOExit)
    case msrRead(msr: UInt32, nextRip: UInt64)
    case msrWrite(msr: UInt32, value: UInt64, nextRip: UInt64)
    /// MOV from CRn (into general register `gpr`) or SMSW (`gpr` nil).
    case crRead(cr: Int, gpr: Int?, nextRip: UInt64)
    /// MOV to CRn, CLTS, LMSW: `value` is what the guest would write.
    case crWrite(cr: Int, value: UInt64, nextRip: UInt64)
    case invlpg(address: UInt64, nextRip: UInt64)
    case rdtsc(nextRip: UInt64)
    /// An exception in the exception bitmap, before delivery; rip is the faulting instruction.
    case exception(vector: UInt8, errorCode: UInt32?, cr2: UInt64?)
    case virtualization(SimGuestVirtualizationInstruction, nextRip: UInt64)
    /// A guest-physical access the nested mapping does not allow; rip is the faulting instruction (retried on entry).
    case nestedPageFault(guestPhysical: UInt64, access: SimGuestAccess)
    /// Triple fault: the vCPU cannot continue.
    case shutdown
    case interruptWindow
    /// The slice given to `run` is used up (preemption).
    case budgetExhausted
    /// `recall()` was called (a forced exit, e.g. so the hypervisor can inject an interrupt).
    case recall
    /// HLT without an intercept: the vCPU waits for an interrupt (activity = halted); not a VM exit.
    case halted
    /// The state was refused before anything ran.
    case failedEntry(SimGuestEntryError)
}
