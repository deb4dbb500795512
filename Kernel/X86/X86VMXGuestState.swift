import Kernel
import KernelABI
import X86Shims

/// A vCPU's `GuestState` into its VMCS before an entry and back after an exit (the VMX backend,
/// X86VMXPlatform.swift): what the kernel forces on the way in (the CR0/CR4 bits VMX operation needs, segments as
/// the CPU would have loaded them, the interrupt shadow, the injected event) and what the guest sees on the way out
/// (its own CR0/CR4 values from the read shadows, an interrupted event to inject again).
extension X86Platform {
    /// The vCPU's state into its VMCS (and general registers and CR2 into its register frame), with what the kernel
    /// forces. Returns why the state cannot be entered on this CPU when it asks for a CR4 feature the CPU lacks
    /// (SVM's VMRUN refuses those as well).
    @_optimize(speed)
    func vmxLoad(_ vcpu: VirtualCPU, registers: UnsafeMutablePointer<UInt64>) -> String? {
        let s = vcpu.state
        let config = x86_vmx_configuration()!.pointee
        if s.cr4 & ~config.cr4_fixed1 != 0 { return "CR4 bits 0x\(String(s.cr4 & ~config.cr4_fixed1, radix: 16)) are not supported by this CPU" }
        s.registers.withUnsafeBufferPointer { r in
            for i in 0..<15 { registers[i] = r[i] }
        }
        registers[15] = s.cr2
        VMCS.write(VMCS.guestRSP, s.rsp)
        VMCS.write(VMCS.guestRIP, s.rip)
        VMCS.write(VMCS.guestRFLAGS, s.rflags)
        VMCS.write(VMCS.guestCR0, s.cr0 | config.cr0_forced)
        VMCS.write(VMCS.cr0Shadow, s.cr0)
        VMCS.write(VMCS.guestCR3, s.cr3)
        VMCS.write(VMCS.guestCR4, s.cr4 | config.cr4_forced)
        VMCS.write(VMCS.cr4Shadow, s.cr4)
        VMCS.write(VMCS.guestEFER, s.efer)
        let longMode = s.efer & (1 << 10) != 0
        VMCS.write(VMCS.entryControls, UInt64(config.entry | (longMode ? config.entry_ia32e : 0)))
        s.segments.withUnsafeBufferPointer { segments in
            for i in 0..<GuestState.segmentCount {
                let segment = segments[i]
                VMCS.write(VMCS.guestSelector(i), UInt64(segment.selector))
                VMCS.write(VMCS.guestLimit(i), UInt64(segment.limit))
                VMCS.write(VMCS.guestAccessRights(i), Self.accessRights(segment, isTaskRegister: i == 7))
                VMCS.write(VMCS.guestBase(i), segment.base)
            }
        }
        VMCS.write(VMCS.guestGDTRLimit, s.gdtrLimit)
        VMCS.write(VMCS.guestGDTRBase, s.gdtrBase)
        VMCS.write(VMCS.guestIDTRLimit, s.idtrLimit)
        VMCS.write(VMCS.guestIDTRBase, s.idtrBase)
        // GuestStateLayout.injection is VMX's interruption format too (vector 0-7, type 8-10, EV 11, V 31); the
        // kernel checked it. No error code is pushed in real mode; NMIs are vector 2; a software interrupt goes with
        // instruction length 0 where the CPU allows it (the return address is rip, as SVM's EVENTINJ has it).
        let inject = s.injection & (1 << 31) != 0
        var interruption = inject ? s.injection & 0x8000_0fff : 0
        if inject && s.cr0 & 1 == 0 { interruption &= ~VMCS.interruptionErrorCode }
        if inject && (interruption >> 8) & 7 == VMCS.typeNMI { interruption = interruption & ~0xff | 2 }
        VMCS.write(VMCS.entryInterruption, interruption)
        VMCS.write(VMCS.entryErrorCode, s.injectionErrorCode)
        let early = inject && (interruption >> 8) & 7 == VMCS.typeSoftwareInterrupt && config.zero_length_injection == 0
        VMCS.write(VMCS.entryInstructionLength, early ? 1 : 0)
        if early {
            // The CPU wants a length of at least 1 and pushes rip + length: enter 1 byte earlier (`vmxStore` and
            // `vmxReinjectVectoredEvent` undo it if the delivery is interrupted).
            VMCS.write(VMCS.guestRIP, s.rip &- 1)
            vcpu.platformState |= VMXState.softwareInterruptEarly
        } else {
            vcpu.platformState &= ~VMXState.softwareInterruptEarly
        }
        // The interrupt shadow: STI blocking needs IF = 1, MOV SS blocking stands for it otherwise. An injected
        // event is delivered before any instruction, so a shadow cannot delay it (as on SVM): none then.
        var interruptibility: UInt64 = 0
        if s.interruptShadow && !inject {
            interruptibility = s.rflags & (1 << 9) != 0 ? VMCS.blockingBySTI : VMCS.blockingByMovSS
        }
        VMCS.write(VMCS.guestInterruptibility, interruptibility)
        // A single step the guest's TF asked for is pending across the shadow (the CPU checks that it says so).
        let singleStep = interruptibility != 0 && s.rflags & (1 << 8) != 0
        VMCS.write(VMCS.guestPendingDebug, singleStep ? VMCS.pendingSingleStep : 0)
        VMCS.write(VMCS.tscOffset, s.tscOffset)
        VMCS.write(VMCS.exceptionBitmap, UInt64(s.exceptionBitmap | VMCB.alwaysInterceptedExceptions))
        var primary = config.primary
        if s.interruptWindowRequested { primary |= config.interrupt_window }
        VMCS.write(VMCS.primaryControls, UInt64(primary))
        VMCS.write(VMCS.vpid, vcpu.tag)
        return nil
    }

    /// VMX access rights for a segment in GuestState's (SVM) attribute layout: type/S/DPL/P stay in bits 0-7,
    /// AVL/L/DB/G move from 8-11 to 12-15, a segment that is not present is unusable. What VMX checks and SVM does
    /// not is set the way the CPU itself sets it when it loads a segment: the accessed bit of code and data
    /// segments, TR's busy bit, and G from the limit (a limit above 1 MiB is page-granular).
    @inline(__always)
    static func accessRights(_ segment: SegmentState, isTaskRegister: Bool) -> UInt64 {
        let attributes = UInt64(segment.attributes)
        guard attributes & UInt64(SegmentState.present) != 0 || isTaskRegister else { return VMCS.unusable }
        var rights = attributes & 0xff | (attributes & 0x700) << 4
        if attributes & (1 << 4) != 0 { rights |= 1 }         // code or data: accessed
        if isTaskRegister && rights & 0x10 == 0 { rights |= 2 } // TSS: busy
        if segment.limit > 0xf_ffff { rights |= 1 << 15 }
        return rights
    }

    /// The guest's state after an exit, from its VMCS and register frame. CR0 and CR4 are what the guest sees: the
    /// bits the kernel owns come from the read shadows.
    @_optimize(speed)
    func vmxStore(_ vcpu: VirtualCPU, registers: UnsafeMutablePointer<UInt64>) {
        let config = x86_vmx_configuration()!.pointee
        let early = vcpu.platformState & VMXState.softwareInterruptEarly != 0
        vcpu.platformState &= ~VMXState.softwareInterruptEarly
        store(registers: registers, into: &vcpu.state, config: config, early: early)
    }

    @_optimize(speed)
    private func store(registers: UnsafeMutablePointer<UInt64>, into s: inout GuestState, config: x86_vmx_config,
                       early: Bool) {
        s.registers.withUnsafeMutableBufferPointer { r in
            for i in 0..<15 { r[i] = registers[i] }
        }
        s.cr2 = registers[15]
        s.rsp = VMCS.read(VMCS.guestRSP)
        s.rip = VMCS.read(VMCS.guestRIP)
        s.rflags = VMCS.read(VMCS.guestRFLAGS)
        s.cr0 = VMCS.read(VMCS.guestCR0) & ~config.cr0_forced | VMCS.read(VMCS.cr0Shadow) & config.cr0_forced
        s.cr3 = VMCS.read(VMCS.guestCR3)
        s.cr4 = VMCS.read(VMCS.cr4Shadow)
        s.efer = VMCS.read(VMCS.guestEFER)
        s.segments.withUnsafeMutableBufferPointer { segments in
            for i in 0..<GuestState.segmentCount {
                let rights = VMCS.read(VMCS.guestAccessRights(i))
                // An unusable segment comes back not present (its other attributes are undefined).
                let attributes = rights & VMCS.unusable != 0 ? 0 : rights & 0xff | (rights >> 4) & 0xf00
                segments[i] = SegmentState(selector: UInt16(truncatingIfNeeded: VMCS.read(VMCS.guestSelector(i))),
                                           attributes: UInt16(truncatingIfNeeded: attributes),
                                           limit: UInt32(truncatingIfNeeded: VMCS.read(VMCS.guestLimit(i))),
                                           base: VMCS.read(VMCS.guestBase(i)))
            }
        }
        s.gdtrLimit = VMCS.read(VMCS.guestGDTRLimit) & 0xffff
        s.gdtrBase = VMCS.read(VMCS.guestGDTRBase)
        s.idtrLimit = VMCS.read(VMCS.guestIDTRLimit) & 0xffff
        s.idtrBase = VMCS.read(VMCS.guestIDTRBase)
        s.interruptShadow = VMCS.read(VMCS.guestInterruptibility) & (VMCS.blockingBySTI | VMCS.blockingByMovSS) != 0
        s.halted = false
        // A hardware event whose delivery the exit interrupted is still to be injected; an INT n, INT3, INTO or
        // INT1 is not: rip is still at the instruction, which raises it again when the guest goes on. A software
        // interrupt the VMM injected (entered one byte early) is still the VMM's injection, at its own rip.
        let vectoring = VMCS.read(VMCS.idtVectoring)
        let type = (vectoring >> 8) & 7
        let valid = vectoring & VMCS.interruptionValid != 0
        if valid && early && type == VMCS.typeSoftwareInterrupt {
            s.rip = s.rip &+ 1
            s.injection = vectoring & 0x8000_07ff
            s.injectionErrorCode = 0
        } else if valid && type != VMCS.typeSoftwareInterrupt && type < 5 {
            s.injection = vectoring & 0x8000_0fff
            s.injectionErrorCode = vectoring & VMCS.interruptionErrorCode != 0 ? VMCS.read(VMCS.idtVectoringErrorCode) : 0
        } else {
            s.injection = 0
        }
    }
}
