import CUnicorn

/// Moves a `SimGuestState` into the engine on entry and back on exit. Registers Unicorn folds (general registers,
/// rip, rflags, the syscall MSRs) go through its API; the rest (hidden segment parts, control registers, EFER,
/// descriptor tables, the interrupt shadow) is written into the saved context with QEMU's derived mode flags
/// (`hflags`) computed here, so the guest runs in exactly the given state, as with a VMCB, whatever its GDT says.
extension UnicornEngine {
    private static let gprs: [uc_x86_reg] = [UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
                                              UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
                                              UC_X86_REG_R8, UC_X86_REG_R9, UC_X86_REG_R10, UC_X86_REG_R11,
                                              UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15]

    // QEMU's hflags bits that follow from the state.
    private static let hfInhibitIRQ: UInt32 = 1 << 3, hfCS32: UInt32 = 1 << 4, hfSS32: UInt32 = 1 << 5
    private static let hfAddSeg: UInt32 = 1 << 6, hfPE: UInt32 = 1 << 7, hfLMA: UInt32 = 1 << 14, hfCS64: UInt32 = 1 << 15
    private static let hfOSFXSR: UInt32 = 1 << 22, hfSMAP: UInt32 = 1 << 23, hfCR0Bits: UInt32 = 7 << 9
    private static let derived: UInt32 = 3 | hfInhibitIRQ | hfCS32 | hfSS32 | hfAddSeg | hfPE | hfLMA | hfCS64 |
        hfOSFXSR | hfSMAP | hfCR0Bits | (1 << 20)

    /// QEMU keeps segment attributes as the descriptor's high dword (bits 8-23); the VMCB packs them in 12 bits.
    static func qemuFlags(_ attributes: UInt16) -> UInt32 {
        UInt32(attributes & 0xff) << 8 | UInt32(attributes & 0xf00) << 12
    }
    static func attributes(_ flags: UInt32) -> UInt16 { UInt16((flags >> 8) & 0xff) | UInt16((flags >> 12) & 0xf00) }

    private func storeSegment(_ offset: Int, _ segment: SimGuestSegment) {
        store(offset, UInt32(segment.selector))
        store(offset + 8, segment.base)
        store(offset + 16, segment.limit)
        store(offset + 20, Self.qemuFlags(segment.attributes))
    }

    private func loadSegment(_ offset: Int) -> SimGuestSegment {
        SimGuestSegment(selector: UInt16(truncatingIfNeeded: load(offset, as: UInt32.self)), base: load(offset + 8, as: UInt64.self),
                        limit: load(offset + 16, as: UInt32.self), attributes: Self.attributes(load(offset + 20, as: UInt32.self)))
    }

    func loadState(_ state: SimGuestState) {
        // The context is rewritten only when the part of the state that lives there changed (an exit round trip
        // usually changes general registers and rip only) or an exception is in flight in it.
        if let held, !exceptionInFlight, held.sameContext(as: state) {
            loadRegisters(state, msrs: held.star != state.star || held.lstar != state.lstar || held.cstar != state.cstar
                          || held.sfmask != state.sfmask || held.kernelGSBase != state.kernelGSBase)
            self.held = state
            return
        }
        save()
        typealias L = UnicornContextLayout
        let stride = L.segmentStride
        storeSegment(L.segments, state.es)
        storeSegment(L.segments + stride, state.cs)
        storeSegment(L.segments + 2 * stride, state.ss)
        storeSegment(L.segments + 3 * stride, state.ds)
        storeSegment(L.segments + 4 * stride, state.fs)
        storeSegment(L.segments + 5 * stride, state.gs)
        storeSegment(L.ldt, state.ldtr)
        storeSegment(L.tr, state.tr)
        store(L.gdt + 8, state.gdtr.base)
        store(L.gdt + 16, UInt32(state.gdtr.limit))
        store(L.idt + 8, state.idtr.base)
        store(L.idt + 16, UInt32(state.idtr.limit))
        store(L.controlRegisters, state.cr0)
        store(L.controlRegisters + 16, state.cr2)
        store(L.controlRegisters + 24, state.cr3)
        store(L.controlRegisters + 32, state.cr4)
        store(L.efer, state.efer)
        store(layout.oldException, Int32(-1)) // nothing in flight: Unicorn never clears it itself
        var hflags = load(L.hflags, as: UInt32.self) & ~Self.derived
        let pe = state.cr0 & 1 != 0
        let csFlags = Self.qemuFlags(state.cs.attributes), ssFlags = Self.qemuFlags(state.ss.attributes)
        if pe { hflags |= Self.hfPE | UInt32(state.ss.dpl) }
        if state.rflags & 0x20000 != 0 { hflags |= 3 } // virtual-8086 runs at CPL 3
        hflags |= UInt32(truncatingIfNeeded: state.cr0 << 8) & Self.hfCR0Bits
        if state.longModeActive { hflags |= Self.hfLMA }
        if state.cr4 & 0x200 != 0 { hflags |= Self.hfOSFXSR }
        if state.cr4 & 0x20_0000 != 0 { hflags |= Self.hfSMAP }
        if state.efer & 0x1000 != 0 { hflags |= 1 << 20 }
        if state.longModeActive && csFlags & (1 << 21) != 0 {
            hflags |= Self.hfCS32 | Self.hfSS32 | Self.hfCS64
        } else {
            if pe && csFlags & (1 << 22) != 0 { hflags |= Self.hfCS32 }
            if pe && ssFlags & (1 << 22) != 0 { hflags |= Self.hfSS32 }
            if !pe || state.rflags & 0x20000 != 0 || hflags & Self.hfCS32 == 0 {
                hflags |= Self.hfAddSeg
            } else if state.ds.base | state.es.base | state.ss.base != 0 {
                hflags |= Self.hfAddSeg
            }
        }
        if state.interruptShadow { hflags |= Self.hfInhibitIRQ }
        store(L.hflags, hflags)
        restore()
        exceptionInFlight = false
        loadRegisters(state, msrs: true)
        held = state
    }

    private func loadRegisters(_ state: SimGuestState, msrs: Bool) {
        for i in 0..<16 { write(Self.gprs[i], state[gpr: i]) }
        write(UC_X86_REG_RIP, state.rip)
        write(UC_X86_REG_RFLAGS, state.rflags | 2)
        guard msrs else { return }
        writeMSR(SimGuestMSR.star, state.star)
        writeMSR(SimGuestMSR.lstar, state.lstar)
        writeMSR(SimGuestMSR.cstar, state.cstar)
        writeMSR(SimGuestMSR.sfmask, state.sfmask)
        writeMSR(SimGuestMSR.kernelGSBase, state.kernelGSBase)
    }

    /// Reads the state back (the caller's copy keeps the fields the engine does not hold: activity, pending event,
    /// TSC offset).
    func storeState(into state: inout SimGuestState) {
        save()
        typealias L = UnicornContextLayout
        let stride = L.segmentStride
        state.es = loadSegment(L.segments)
        state.cs = loadSegment(L.segments + stride)
        state.ss = loadSegment(L.segments + 2 * stride)
        state.ds = loadSegment(L.segments + 3 * stride)
        state.fs = loadSegment(L.segments + 4 * stride)
        state.gs = loadSegment(L.segments + 5 * stride)
        state.ldtr = loadSegment(L.ldt)
        state.tr = Self.busyTaskRegister(loadSegment(L.tr))
        state.gdtr = SimGuestDescriptorTable(base: load(L.gdt + 8, as: UInt64.self), limit: UInt16(truncatingIfNeeded: load(L.gdt + 16, as: UInt32.self)))
        state.idtr = SimGuestDescriptorTable(base: load(L.idt + 8, as: UInt64.self), limit: UInt16(truncatingIfNeeded: load(L.idt + 16, as: UInt32.self)))
        state.cr0 = load(L.controlRegisters, as: UInt64.self)
        state.cr2 = load(L.controlRegisters + 16, as: UInt64.self)
        state.cr3 = load(L.controlRegisters + 24, as: UInt64.self)
        state.cr4 = load(L.controlRegisters + 32, as: UInt64.self)
        state.efer = load(L.efer, as: UInt64.self)
        state.interruptShadow = load(L.hflags, as: UInt32.self) & Self.hfInhibitIRQ != 0
        for i in 0..<16 { state[gpr: i] = read(Self.gprs[i]) }
        state.rip = read(UC_X86_REG_RIP)
        state.rflags = read(UC_X86_REG_RFLAGS)
        state.star = readMSR(SimGuestMSR.star)
        state.lstar = readMSR(SimGuestMSR.lstar)
        state.cstar = readMSR(SimGuestMSR.cstar)
        state.sfmask = readMSR(SimGuestMSR.sfmask)
        state.kernelGSBase = readMSR(SimGuestMSR.kernelGSBase)
        held = state
    }

    /// TR as a CPU holds it after LTR: busy. QEMU's LTR marks the descriptor in the GDT busy but caches the type it
    /// read before (available, 1 or 9), so a state read back from the engine would fail the next entry's TR check
    /// (what ended Linux's boot at its first exit after `ltr`).
    static func busyTaskRegister(_ tr: SimGuestSegment) -> SimGuestSegment {
        guard tr.present, tr.attributes & 0x1f == 0x09 || tr.attributes & 0x1f == 0x01 else { return tr }
        var busy = tr
        busy.attributes |= 0x2
        return busy
    }

    /// The exception Unicorn was raising when its interrupt hook ran: error code and whether it came from INT n.
    func pendingExceptionInfo() -> (errorCode: UInt32, isSoftware: Bool) {
        save()
        return (load(layout.errorCode, as: UInt32.self), load(layout.exceptionIsInt, as: Int32.self) != 0)
    }

    /// Forgets what the engine holds, so the next load writes the whole context.
    func invalidateHeldState() { held = nil }

    /// Code-segment width and base right now (for decoding the instructions of a new block).
    func codeMode() -> (bits: Int, csBase: UInt64) {
        save()
        let hflags = load(UnicornContextLayout.hflags, as: UInt32.self)
        let base = load(UnicornContextLayout.segments + UnicornContextLayout.segmentStride + 8, as: UInt64.self)
        if hflags & Self.hfCS64 != 0 { return (64, 0) }
        return (hflags & Self.hfCS32 != 0 ? 32 : 16, base)
    }
}

extension SimGuestState {
    /// Whether the fields that live in the engine's saved context (not its registers) are the same.
    func sameContext(as other: SimGuestState) -> Bool {
        cr0 == other.cr0 && cr2 == other.cr2 && cr3 == other.cr3 && cr4 == other.cr4 && efer == other.efer &&
            cs == other.cs && ss == other.ss && ds == other.ds && es == other.es && fs == other.fs && gs == other.gs &&
            tr == other.tr && ldtr == other.ldtr && gdtr == other.gdtr && idtr == other.idtr &&
            interruptShadow == other.interruptShadow
    }
}
