/// A segment register as a hypervisor holds it (SVM's VMCB layout): the selector and the hidden part.
/// `attributes` is the 12-bit packed form: bits 0-7 = type, S, DPL, P; bits 8-11 = AVL, L, D/B, G.
public struct SimGuestSegment: Equatable, Sendable {
    public var selector: UInt16
    public var base: UInt64
    public var limit: UInt32
    public var attributes: UInt16

    public init(selector: UInt16 = 0, base: UInt64 = 0, limit: UInt32 = 0xffff, attributes: UInt16 = 0) {
        self.selector = selector
        self.base = base
        self.limit = limit
        self.attributes = attributes
    }

    public var present: Bool { attributes & 0x80 != 0 }
    public var dpl: UInt8 { UInt8((attributes >> 5) & 3) }
    public var longMode: Bool { attributes & 0x200 != 0 }
    public var defaultBig: Bool { attributes & 0x400 != 0 }

    /// Real-mode segment: base = selector * 16, 64 KiB, read/write data (code when `code`).
    public static func real(_ selector: UInt16, code: Bool = false) -> SimGuestSegment {
        SimGuestSegment(selector: selector, base: UInt64(selector) << 4, limit: 0xffff, attributes: code ? 0x9b : 0x93)
    }
    /// Flat 4 GiB segments for 32-bit protected mode and long mode.
    public static func flatCode32(_ selector: UInt16) -> SimGuestSegment {
        SimGuestSegment(selector: selector, base: 0, limit: 0xffff_ffff, attributes: 0xc9b)
    }
    public static func flatCode64(_ selector: UInt16) -> SimGuestSegment {
        SimGuestSegment(selector: selector, base: 0, limit: 0xffff_ffff, attributes: 0xa9b)
    }
    public static func flatData(_ selector: UInt16) -> SimGuestSegment {
        SimGuestSegment(selector: selector, base: 0, limit: 0xffff_ffff, attributes: 0xc93)
    }
    /// A 64-bit (or 32-bit) available TSS at `base`.
    public static func tss(_ selector: UInt16, base: UInt64, limit: UInt32 = 0x67) -> SimGuestSegment {
        SimGuestSegment(selector: selector, base: base, limit: limit, attributes: 0x8b)
    }
}

/// GDTR or IDTR.
public struct SimGuestDescriptorTable: Equatable, Sendable {
    public var base: UInt64
    public var limit: UInt16
    public init(base: UInt64 = 0, limit: UInt16 = 0xffff) {
        self.base = base
        self.limit = limit
    }
}

/// Whether the vCPU executes or waits for an interrupt (HLT without an intercept).
public enum SimGuestActivity: Equatable, Sendable {
    case running
    case halted
}

/// What kind of event is injected (SVM EVENTINJ / VMX entry-interruption types).
public enum SimGuestEventType: Equatable, Sendable {
    case externalInterrupt
    case nmi
    case exception
    case softwareInterrupt
}

/// An event the hypervisor injects; it is delivered through the guest's IDT (or IVT) on the next entry.
public struct SimGuestEvent: Equatable, Sendable {
    public var vector: UInt8
    public var type: SimGuestEventType
    public var errorCode: UInt32?

    public init(vector: UInt8, type: SimGuestEventType, errorCode: UInt32? = nil) {
        self.vector = vector
        self.type = type
        self.errorCode = errorCode
    }
}

/// Everything of one vCPU that a hypervisor loads on entry and reads back on exit.
public struct SimGuestState: Equatable, Sendable {
    public var rax: UInt64 = 0, rbx: UInt64 = 0, rcx: UInt64 = 0, rdx: UInt64 = 0
    public var rsi: UInt64 = 0, rdi: UInt64 = 0, rbp: UInt64 = 0, rsp: UInt64 = 0
    public var r8: UInt64 = 0, r9: UInt64 = 0, r10: UInt64 = 0, r11: UInt64 = 0
    public var r12: UInt64 = 0, r13: UInt64 = 0, r14: UInt64 = 0, r15: UInt64 = 0
    public var rip: UInt64 = 0
    public var rflags: UInt64 = 0x2

    public var cr0: UInt64 = 0x10
    public var cr2: UInt64 = 0
    public var cr3: UInt64 = 0
    public var cr4: UInt64 = 0
    public var efer: UInt64 = 0

    public var es = SimGuestSegment.real(0), cs = SimGuestSegment.real(0, code: true), ss = SimGuestSegment.real(0)
    public var ds = SimGuestSegment.real(0), fs = SimGuestSegment.real(0), gs = SimGuestSegment.real(0)
    public var ldtr = SimGuestSegment(selector: 0, base: 0, limit: 0xffff, attributes: 0x82)
    public var tr = SimGuestSegment(selector: 0, base: 0, limit: 0xffff, attributes: 0x8b)
    public var gdtr = SimGuestDescriptorTable()
    public var idtr = SimGuestDescriptorTable(base: 0, limit: 0x3ff)

    /// The system-call MSRs (switched with the guest, used by SYSCALL).
    public var star: UInt64 = 0, lstar: UInt64 = 0, cstar: UInt64 = 0, sfmask: UInt64 = 0, kernelGSBase: UInt64 = 0

    /// Interrupts are blocked for one instruction (after STI, MOV SS, POP SS).
    public var interruptShadow = false
    public var activity = SimGuestActivity.running
    /// Delivered on the next entry (an external interrupt waits until the guest can take it).
    public var pendingEvent: SimGuestEvent?
    /// Added to the virtual clock for RDTSC (wrapping).
    public var tscOffset: UInt64 = 0

    public init() {}

    /// A real-mode reset-like state with execution at cs:ip = 0:`rip`.
    public static func realMode(rip: UInt64) -> SimGuestState {
        var state = SimGuestState()
        state.rip = rip
        return state
    }

    /// 32-bit flat protected mode, no paging (a Multiboot-like entry): CS 0x08, data 0x10.
    public static func protectedMode32(rip: UInt64, rsp: UInt64 = 0) -> SimGuestState {
        var state = SimGuestState()
        state.rip = rip
        state.rsp = rsp
        state.cr0 = 0x11
        state.cs = .flatCode32(0x08)
        for keyPath in [\SimGuestState.ds, \.es, \.ss, \.fs, \.gs] { state[keyPath: keyPath] = .flatData(0x10) }
        state.gdtr = SimGuestDescriptorTable(base: 0, limit: 0)
        state.idtr = SimGuestDescriptorTable(base: 0, limit: 0)
        return state
    }

    /// 64-bit long mode with paging from `cr3` (PAE, PG, WP, LME/LMA, NXE): CS 0x08, data 0x10.
    public static func longMode(rip: UInt64, cr3: UInt64, rsp: UInt64 = 0) -> SimGuestState {
        var state = protectedMode32(rip: rip, rsp: rsp)
        state.cr0 = 0x8001_0011
        state.cr3 = cr3
        state.cr4 = 0x20
        state.efer = 0xd00
        state.cs = .flatCode64(0x08)
        return state
    }

    /// The 16 general registers in hardware order (rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8..r15).
    public subscript(gpr index: Int) -> UInt64 {
        get {
            switch index & 15 {
            case 0: return rax
            case 1: return rcx
            case 2: return rdx
            case 3: return rbx
            case 4: return rsp
            case 5: return rbp
            case 6: return rsi
            case 7: return rdi
            case 8: return r8
            case 9: return r9
            case 10: return r10
            case 11: return r11
            case 12: return r12
            case 13: return r13
            case 14: return r14
            default: return r15
            }
        }
        set {
            switch index & 15 {
            case 0: rax = newValue
            case 1: rcx = newValue
            case 2: rdx = newValue
            case 3: rbx = newValue
            case 4: rsp = newValue
            case 5: rbp = newValue
            case 6: rsi = newValue
            case 7: rdi = newValue
            case 8: r8 = newValue
            case 9: r9 = newValue
            case 10: r10 = newValue
            case 11: r11 = newValue
            case 12: r12 = newValue
            case 13: r13 = newValue
            case 14: r14 = newValue
            default: r15 = newValue
            }
        }
    }

    /// Current privilege level (SS.DPL, as SVM defines it; 0 in real mode).
    public var cpl: UInt8 { cr0 & 1 == 0 ? 0 : ss.dpl }
    public var longModeActive: Bool { efer & 0x400 != 0 }
    public var interruptsEnabled: Bool { rflags & 0x200 != 0 }
}
