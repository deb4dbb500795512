import KernelABI

/// One segment register as a vCPU holds it (attributes in the SVM layout: type 0-3, S 4, DPL 5-6, P 7, AVL 8,
/// L 9, D/B 10, G 11; the VMX platform converts).
public struct SegmentState: Equatable, Sendable {
    public var selector: UInt16 = 0
    public var attributes: UInt16 = 0
    public var limit: UInt32 = 0xffff
    public var base: UInt64 = 0
    public init(selector: UInt16 = 0, attributes: UInt16 = 0, limit: UInt32 = 0xffff, base: UInt64 = 0) {
        self.selector = selector
        self.attributes = attributes
        self.limit = limit
        self.base = base
    }

    public static let present: UInt16 = 1 << 7
    public static let long: UInt16 = 1 << 9
    public static let defaultSize: UInt16 = 1 << 10
}

/// A vCPU's architectural state and its exit information, vendor-neutral: what the kernel transfers to and from the
/// VMM (`TransferDescriptor` groups at `GuestStateLayout` words) and what a platform loads into its VMCB / VMCS or
/// simulated CPU. The initial state is x86's reset state (real mode at f000:fff0), which the VMM's startup reply
/// normally replaces.
public struct GuestState: Equatable, Sendable {
    /// rax, rcx, rdx, rbx, rbp, rsi, rdi, r8 ... r15 (x86 encoding order without rsp).
    public var registers = [UInt64](repeating: 0, count: 15)
    public var rsp: UInt64 = 0
    public var rip: UInt64 = 0xfff0
    public var rflags: UInt64 = 0x2
    public var cr0: UInt64 = 0x6000_0010
    public var cr2: UInt64 = 0
    public var cr3: UInt64 = 0
    public var cr4: UInt64 = 0
    public var efer: UInt64 = 0
    /// es, cs, ss, ds, fs, gs, ldtr, tr.
    public var segments: [SegmentState] = [
        SegmentState(attributes: 0x93), SegmentState(selector: 0xf000, attributes: 0x9b, base: 0xffff_0000),
        SegmentState(attributes: 0x93), SegmentState(attributes: 0x93), SegmentState(attributes: 0x93),
        SegmentState(attributes: 0x93), SegmentState(attributes: 0x82), SegmentState(attributes: 0x8b),
    ]
    public var gdtrLimit: UInt64 = 0xffff, gdtrBase: UInt64 = 0
    public var idtrLimit: UInt64 = 0xffff, idtrBase: UInt64 = 0
    public var interruptShadow = false
    public var halted = false
    /// `GuestStateLayout.injection` format; bit 31 clear: nothing to inject.
    public var injection: UInt64 = 0
    public var injectionErrorCode: UInt64 = 0
    public var tscOffset: UInt64 = 0
    public var interruptWindowRequested = false
    /// Bit n: intercept guest exception n (the kernel adds #AC and #DB, which it always intercepts).
    public var exceptionBitmap: UInt32 = 0

    // Exit information, written by the platform on each exit.
    public var exitReason: UInt64 = VMExit.startup
    public var qualification0: UInt64 = 0
    public var qualification1: UInt64 = 0
    public var qualificationFlags: UInt64 = 0
    public var guestLinear: UInt64 = 0
    public var guestPhysical: UInt64 = 0
    public var instructionLength: UInt64 = 0

    public init() {}

    public static let segmentCount = 8
    public static let cs = 1

    /// Writes the groups of `transfer` other than `skipped` (which the caller moves itself) into the handler's UTCB
    /// through `store(word, value)`, runs of words through `storeWords(first word, words)`; the MTD word says `transfer`.
    /// `mutating` although it changes nothing: a vCPU's state is then used in place, not copied for the call.
    @_optimize(speed) @inline(__always)
    public mutating func write(_ transfer: UInt64, skipping skipped: UInt64 = 0, _ store: (Int, UInt64) -> Void,
                               storeWords: (Int, UnsafeBufferPointer<UInt64>) -> Void) {
        typealias L = GuestStateLayout
        store(L.mtd, transfer)
        let mtd = transfer & ~skipped
        store(L.exitReason, exitReason)
        if mtd & TransferDescriptor.qualification != 0 {
            store(L.qualification0, qualification0)
            store(L.qualification1, qualification1)
            store(L.qualificationFlags, qualificationFlags)
            store(L.guestLinear, guestLinear)
            store(L.guestPhysical, guestPhysical)
        }
        if mtd & TransferDescriptor.instructionPointer != 0 {
            store(L.rip, rip)
            store(L.instructionLength, instructionLength)
        }
        if mtd & TransferDescriptor.stack != 0 {
            store(L.rsp, rsp)
            store(L.rflags, rflags)
        }
        if mtd & TransferDescriptor.generalRegisters != 0 {
            registers.withUnsafeBufferPointer { storeWords(L.firstGeneralRegister, $0) }
        }
        if mtd & TransferDescriptor.controlRegisters != 0 {
            store(L.cr0, cr0); store(L.cr2, cr2); store(L.cr3, cr3); store(L.cr4, cr4); store(L.efer, efer)
        }
        if mtd & TransferDescriptor.segments != 0 {
            for (i, s) in segments.enumerated() {
                store(L.firstSegment + 3 * i, UInt64(s.selector) | UInt64(s.attributes) << 16)
                store(L.firstSegment + 3 * i + 1, UInt64(s.limit))
                store(L.firstSegment + 3 * i + 2, s.base)
            }
        }
        if mtd & TransferDescriptor.descriptorTables != 0 {
            store(L.gdtrLimit, gdtrLimit); store(L.gdtrBase, gdtrBase)
            store(L.idtrLimit, idtrLimit); store(L.idtrBase, idtrBase)
        }
        if mtd & TransferDescriptor.interruptState != 0 {
            store(L.interruptShadow, interruptShadow ? 1 : 0)
            store(L.activity, halted ? 1 : 0)
        }
        if mtd & TransferDescriptor.injection != 0 {
            store(L.injection, injection)
            store(L.injectionErrorCode, injectionErrorCode)
        }
        if mtd & TransferDescriptor.tscOffset != 0 { store(L.tscOffset, tscOffset) }
        if mtd & TransferDescriptor.controls != 0 {
            store(L.controlFlags, interruptWindowRequested ? L.interruptWindowRequest : 0)
            store(L.exceptionBitmap, UInt64(exceptionBitmap))
        }
    }

    /// Reads the groups of `mtd` back from the handler's UTCB through `load(word)`. The qualification group is
    /// read-only and ignored. Returns a description of the first field no guest may have (the reply is then
    /// refused whole and nothing changes), or nil. The fields that can be refused are checked first and the state
    /// is then written in place (no copy of the state or its arrays: this runs on every exit).
    @_optimize(speed) @inline(__always)
    public mutating func read(_ mtd: UInt64, _ load: (Int) -> UInt64,
                              loadWords: (Int, UnsafeMutableBufferPointer<UInt64>) -> Void) -> String? {
        typealias L = GuestStateLayout
        if mtd & TransferDescriptor.segments != 0 {
            for i in 0..<Self.segmentCount where load(L.firstSegment + 3 * i) >> 32 != 0 || load(L.firstSegment + 3 * i + 1) >> 32 != 0 {
                return "segment \(i): selector/attributes or limit too wide"
            }
        }
        if mtd & TransferDescriptor.descriptorTables != 0, load(L.gdtrLimit) > 0xffff || load(L.idtrLimit) > 0xffff {
            return "descriptor table limit above 0xffff"
        }
        if mtd & TransferDescriptor.interruptState != 0, load(L.activity) > 1 { return "activity state \(load(L.activity))" }
        if mtd & TransferDescriptor.injection != 0,
           let problem = Self.injectionProblem(load(L.injection), errorCode: load(L.injectionErrorCode)) { return problem }
        if mtd & TransferDescriptor.controls != 0, load(L.exceptionBitmap) >> 32 != 0 { return "exception bitmap beyond 32 vectors" }

        if mtd & TransferDescriptor.instructionPointer != 0 { rip = load(L.rip) }
        if mtd & TransferDescriptor.stack != 0 {
            rsp = load(L.rsp)
            rflags = load(L.rflags)
        }
        if mtd & TransferDescriptor.generalRegisters != 0 {
            registers.withUnsafeMutableBufferPointer { loadWords(L.firstGeneralRegister, $0) }
        }
        if mtd & TransferDescriptor.controlRegisters != 0 {
            cr0 = load(L.cr0); cr2 = load(L.cr2); cr3 = load(L.cr3); cr4 = load(L.cr4)
            efer = load(L.efer)
        }
        if mtd & TransferDescriptor.segments != 0 {
            for i in 0..<Self.segmentCount {
                let word = load(L.firstSegment + 3 * i)
                segments[i] = SegmentState(selector: UInt16(truncatingIfNeeded: word),
                                           attributes: UInt16(truncatingIfNeeded: word >> 16),
                                           limit: UInt32(truncatingIfNeeded: load(L.firstSegment + 3 * i + 1)),
                                           base: load(L.firstSegment + 3 * i + 2))
            }
        }
        if mtd & TransferDescriptor.descriptorTables != 0 {
            gdtrLimit = load(L.gdtrLimit); gdtrBase = load(L.gdtrBase)
            idtrLimit = load(L.idtrLimit); idtrBase = load(L.idtrBase)
        }
        if mtd & TransferDescriptor.interruptState != 0 {
            interruptShadow = load(L.interruptShadow) & 1 != 0
            halted = load(L.activity) == 1
        }
        if mtd & TransferDescriptor.injection != 0 {
            injection = load(L.injection)
            injectionErrorCode = load(L.injectionErrorCode)
        }
        if mtd & TransferDescriptor.tscOffset != 0 { tscOffset = load(L.tscOffset) }
        if mtd & TransferDescriptor.controls != 0 {
            interruptWindowRequested = load(L.controlFlags) & L.interruptWindowRequest != 0
            exceptionBitmap = UInt32(truncatingIfNeeded: load(L.exceptionBitmap))
        }
        return nil
    }

    /// The exceptions that push an error code, bit per vector (#DF 8, #TS 10, #NP 11, #SS 12, #GP 13, #PF 14,
    /// #AC 17): an injected one must carry it, and no other event may (VMX refuses both at entry; SVM would push
    /// whatever it is told).
    static let exceptionsWithErrorCode: UInt64 = 1 << 8 | 0x7c00 | 1 << 17

    /// Whether an injection word describes an event the CPU can deliver. The rules are the strictest of the
    /// machines' (VMX, SVM, the simulator), so a VMM's injection is taken or refused alike on all of them.
    static func injectionProblem(_ word: UInt64, errorCode: UInt64) -> String? {
        guard word & (1 << 31) != 0 else { return nil }
        guard word & ~UInt64(0x8000_0fff) == 0 else { return "injection word has reserved bits set" }
        guard let type = InjectionType(rawValue: (word >> 8) & 7) else { return "injection type \((word >> 8) & 7)" }
        let vector = word & 0xff
        let hasErrorCode = word & (1 << 11) != 0
        if type == .exception && (vector >= 32 || vector == 2) { return "injected exception vector \(vector)" }
        // #CP, #VC and #SX push an error code only on CPUs with the features behind them, which no guest gets.
        if type == .exception && (vector == 21 || vector == 29 || vector == 30) { return "injected exception vector \(vector)" }
        if type == .exception && hasErrorCode != ((exceptionsWithErrorCode >> vector) & 1 != 0) {
            return "injected exception \(vector) " + (hasErrorCode ? "with an error code it does not have" : "without its error code")
        }
        if type != .exception && hasErrorCode { return "injected event of type \(type.rawValue) with an error code" }
        if type == .nmi && vector != 2 { return "injected NMI with vector \(vector)" }
        if type == .externalInterrupt && vector < 16 { return "external interrupt vector \(vector) below 16" }
        if errorCode >> 32 != 0 { return "injection error code wider than 32 bits" }
        return nil
    }

    /// The groups a platform may leave in its hardware state after an exit (VirtualCPU.staleGroups) until someone
    /// reads them: the bulky ones an exit handler seldom needs. The others (rip, rsp/rflags, interrupt state,
    /// injection, TSC offset, controls, the exit information) are current in `GuestState` after every exit.
    public static let deferrableGroups = TransferDescriptor.generalRegisters | TransferDescriptor.controlRegisters
        | TransferDescriptor.segments | TransferDescriptor.descriptorTables

    /// The groups `entryProblem` reads: a reply that writes none of them needs no entry check.
    public static let checkedGroups = TransferDescriptor.stack | TransferDescriptor.controlRegisters
        | TransferDescriptor.segments

    /// Why the hardware would refuse to enter this state (the checks both SVM and VMX make on what a VMM can set),
    /// or nil. Checked before every entry; a refused state is exit `failedEntry` to the VMM, never a kernel fault.
    public var entryProblem: String? {
        @_optimize(speed) get { entryCheck() }
    }

    @_optimize(speed)
    private func entryCheck() -> String? {
        let pe: UInt64 = 1, pg: UInt64 = 1 << 31, cd: UInt64 = 1 << 30, nw: UInt64 = 1 << 29
        if cr0 >> 32 != 0 { return "CR0 bits 32-63 set" }
        if cr0 & pg != 0 && cr0 & pe == 0 { return "CR0.PG without CR0.PE" }
        if cr0 & nw != 0 && cr0 & cd == 0 { return "CR0.NW without CR0.CD" }
        // CR4: not VMXE (13) or SMXE (14), which no guest gets; not LA57 (12), UMIP (11) or the reserved 15 and 19;
        // not OSXSAVE (18): the kernel does not switch a guest's XCR0 and XSAVE state yet, so a guest must not use
        // them. (Which of the remaining features a guest may turn on is its VMM's CPUID model: CR4 writes exit.)
        let cr4Allowed: UInt64 = 0x1f_ffff & ~(1 << 11 | 1 << 12 | 1 << 13 | 1 << 14 | 1 << 15 | 1 << 18 | 1 << 19)
        if cr4 & ~cr4Allowed != 0 { return "CR4 bits \(hex(cr4 & ~cr4Allowed)) are reserved or hidden" }
        // EFER: SCE 0, LME 8, LMA 10, NXE 11 (SVME 12 is the kernel's, set under every guest).
        let eferAllowed: UInt64 = 1 | 1 << 8 | 1 << 10 | 1 << 11
        if efer & ~eferAllowed != 0 { return "EFER bits \(hex(efer & ~eferAllowed)) are reserved or the host's" }
        let lme = efer & (1 << 8) != 0
        if lme && cr0 & pg != 0 && cr4 & (1 << 5) == 0 { return "long mode paging without CR4.PAE" }
        if lme && cr0 & pg != 0 && cr0 & pe == 0 { return "long mode without protected mode" }
        let cs = segments[Self.cs]
        if cs.attributes & SegmentState.long != 0 && cs.attributes & SegmentState.defaultSize != 0 {
            return "CS with both L and D set"
        }
        if rflags & 0x2 == 0 || rflags & ~UInt64(0x3f_7fd7) != 0 { return "RFLAGS reserved bits" }
        if rflags & (1 << 17) != 0 && cr0 & pe != 0 && efer & (1 << 10) != 0 { return "RFLAGS.VM in long mode" }
        // An external interrupt (valid, type 0) only when the guest could take one (VMX checks it at entry; SVM
        // would deliver it). One mask test: this runs on every entry.
        if injection & 0x8000_0700 == 0x8000_0000 && rflags & (1 << 9) == 0 {
            return "external interrupt injected while RFLAGS.IF is clear"
        }
        return nil
    }
}
