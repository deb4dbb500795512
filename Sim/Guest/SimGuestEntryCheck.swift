/// The checks a hardware VM entry makes on the guest state; a state that fails one is a failed entry, never run.
enum SimGuestEntryCheck {
    static let exceptionsWithErrorCode: Set<UInt8> = [8, 10, 11, 12, 13, 14, 17, 21, 29, 30]

    static func check(_ state: SimGuestState) -> SimGuestEntryError? {
        let cr0 = state.cr0, efer = state.efer
        if cr0 >> 32 != 0 { return .reservedBits(register: "cr0", value: cr0) }
        if cr0 & 0x8000_0000 != 0 && cr0 & 1 == 0 { return .pagingWithoutProtection }
        if cr0 & 0x2000_0000 != 0 && cr0 & 0x4000_0000 == 0 { return .reservedBits(register: "cr0 (NW without CD)", value: cr0) }
        // CR4: VME..OSXMMEXCPT (what the Nehalem model has); VMXE, LA57, PCIDE, OSXSAVE, SMEP, SMAP are not offered.
        let cr4Allowed: UInt64 = 0x7ff
        if state.cr4 & ~cr4Allowed != 0 { return .reservedBits(register: "cr4", value: state.cr4) }
        let eferAllowed: UInt64 = 0x1 | 0x100 | 0x400 | 0x800 // SCE, LME, LMA, NXE (no SVME: SVM is not offered)
        if efer & ~eferAllowed != 0 { return .reservedBits(register: "efer", value: efer) }
        let paging = cr0 & 0x8000_0000 != 0
        let lme = efer & 0x100 != 0, lma = efer & 0x400 != 0
        if lme && paging && state.cr4 & 0x20 == 0 { return .longModeWithoutPAE }
        if lma != (lme && paging) { return .longModeMismatch(efer: efer, cr0: cr0) }
        if state.cr3 >> 52 != 0 { return .reservedBits(register: "cr3", value: state.cr3) }
        if state.rflags >> 22 != 0 || state.rflags & 0x8028 != 0 { return .reservedBits(register: "rflags", value: state.rflags) }
        let segments: [(String, SimGuestSegment)] = [("es", state.es), ("cs", state.cs), ("ss", state.ss), ("ds", state.ds),
                                                     ("fs", state.fs), ("gs", state.gs), ("ldtr", state.ldtr), ("tr", state.tr)]
        for (name, segment) in segments where segment.attributes > 0xfff {
            return .badSegment(name: name, attributes: segment.attributes)
        }
        let cs = state.cs
        if cr0 & 1 != 0 {
            // CS must be a present code segment; L and D/B together are reserved in long mode.
            if !cs.present || cs.attributes & 0x18 != 0x18 { return .badSegment(name: "cs", attributes: cs.attributes) }
            if lma && cs.longMode && cs.defaultBig { return .badSegment(name: "cs", attributes: cs.attributes) }
            if !lma && cs.longMode { return .badSegment(name: "cs", attributes: cs.attributes) }
            if state.tr.attributes & 0x1f != 0x0b && state.tr.attributes & 0x1f != 0x03 && state.tr.present {
                return .badSegment(name: "tr", attributes: state.tr.attributes)
            }
        }
        if let event = state.pendingEvent {
            let needsCode = exceptionsWithErrorCode.contains(event.vector)
            switch event.type {
            case .exception:
                if event.vector >= 32 || event.vector == 2 || needsCode != (event.errorCode != nil) { return .badEvent(event) }
            case .nmi:
                if event.vector != 2 || event.errorCode != nil { return .badEvent(event) }
            case .externalInterrupt, .softwareInterrupt:
                if event.errorCode != nil { return .badEvent(event) }
            }
        }
        return nil
    }
}
