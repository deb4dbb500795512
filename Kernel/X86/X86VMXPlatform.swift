import Kernel
import KernelABI
import X86Shims

/// The Intel VMX backend of `Platform`'s VM part (ABI.md "Virtual machines"), behind the same vendor-neutral
/// interface as the SVM one (X86GuestVendor.swift picks one at boot by CPUID): a vCPU's `GuestState` is written into
/// its VMCS before every VM entry and read back after the VM exit, whose basic exit reason is mapped onto `VMExit`.
/// VMX tells the instruction length of instruction exits and the guest-linear address of string I/O and most EPT
/// violations, so those are marked known (`qualificationFlags`), unlike on QEMU's SVM.
///
/// Per-vCPU frames (`VirtualCPU.frames`, pool pages, zeroed by the kernel): 0 the VMCS; 1 the guest's general
/// registers (words 0-14, `GuestState.registers` order) and CR2 (word 15), its FXSAVE image (bytes 512-1023) and
/// its MSR area (bytes 1024-1103: the syscall MSRs VMX does not switch itself, loaded at entry and stored at exit);
/// 2 the virtual-APIC page (TPR shadow: a guest's CR8 is its own, as SVM's V_TPR). The MSR bitmap, I/O bitmaps and
/// host MSR-load area are this CPU's (vmx.c).
///
/// Invariants (a guest or VMM must never fault the kernel):
/// - every VMCS field is written here from a checked `GuestState` (Kernel.entryProblem ran) or forced: the controls
///   vmx.c computed (external interrupts, NMI, HLT, I/O, MSRs, every VMX instruction exit; EPT on
///   `vcpu.nestedRoot`, VPID `vcpu.tag`), the CR0/CR4 bits VMX operation needs (owned by the kernel through the
///   guest/host masks: the guest reads its own values from the read shadows), #AC and #DB intercepted, CR4 writes
///   exiting (mask all ones); what the CPU still refuses is a VM-entry failure (VMfailValid or an invalid-guest-state
///   exit), reported as exit `failedEntry` with the reason in `lastFailure`;
/// - VMX checks segments more strictly than SVM: usable code/data segments are entered with their accessed bit, TR
///   busy, and G as the limit implies, which is how the CPU itself would have loaded them;
/// - `platformState` (`VMXState`): 0 until `prepare` wrote the fields that never change, then prepared (VMCS clear)
///   or launched, and whether the guest was entered one byte early for a software interrupt (see `load`).
enum VMXState {
    static let prepared: UInt64 = 1
    static let launched: UInt64 = 2
    static let phase: UInt64 = 3
    /// The entry injected a software interrupt with instruction length 1 at rip - 1 (the CPU allows no length 0).
    static let softwareInterruptEarly: UInt64 = 1 << 8
}

extension X86Platform {
    var vmxTagCount: UInt64 { UInt64(x86_vmx_vpid_count()) }
    var vmxStateFrames: UInt64 { 3 }

    /// VPID `tag`'s cached translations go, and with them every EPT-derived one (INVEPT all-context: the platform
    /// does not keep which EPT root a VPID last ran with). nil: every VPID's.
    func flushVMXGuestTranslations(tag: UInt64?) {
        if let tag { _ = x86_vmx_flush_vpid(tag) } else { _ = x86_vmx_flush_all_vpids() }
        _ = x86_vmx_flush_ept()
    }

    /// The VMCS leaves the CPU (VMCLEAR writes back what it cached and makes it not current), so its frame can be
    /// reused.
    func releaseVMXGuest(_ vcpu: VirtualCPU) {
        guard vcpu.platformState & VMXState.phase != 0, let vmcs = vcpu.frames.first else { return }
        _ = x86_vmx_clear(vmcs)
        vcpu.platformState = 0
    }

    @_optimize(speed)
    func enterVMXGuest(_ vcpu: VirtualCPU) -> Exit {
        guard x86_vmx_vpid_count() > 0, vcpu.frames.count >= 3, vcpu.tag != 0, vcpu.tag <= vmxTagCount else {
            preconditionFailure("kernel bug: a vCPU entered without VMX, its frames or a VPID")
        }
        let registers = UnsafeMutablePointer<UInt64>(bitPattern: UInt(vcpu.frames[1]))!
        if vcpu.platformState & VMXState.phase == 0 {
            if let problem = prepare(vcpu, registers) {
                describeSyntheticExit(&vcpu.state, VMExit.failedEntry)
                vcpu.lastFailure = problem
                return .guest
            }
        } else if x86_vmx_load(vcpu.frames[0]) != 0 {
            preconditionFailure("kernel bug: VMPTRLD refused a vCPU's VMCS")
        }
        installVMXGuestPorts(vcpu.ioPermissions)
        if vcpu.state.halted {
            // The VMM's "halted" waits here, as on SVM: for an event to inject, an interrupt window, or a host
            // interrupt (which ends the wait as it would end the guest).
            if vcpu.state.injection & (1 << 31) != 0 {
                vcpu.state.halted = false
            } else if vcpu.state.interruptWindowRequested && vcpu.state.rflags & (1 << 9) != 0 {
                vcpu.state.halted = false
                describeSyntheticExit(&vcpu.state, VMExit.interruptWindow)
                return .guest
            } else {
                return idle()
            }
        }
        if let problem = load(vcpu, registers: registers) {
            describeSyntheticExit(&vcpu.state, VMExit.failedEntry)
            vcpu.lastFailure = problem
            return .guest
        }
        // Everything was loaded: nothing the kernel changed is waiting (VirtualCPU.dirtyGroups).
        vcpu.dirtyGroups = 0
        let fpu = registers + 64
        while true {
            let result = x86_vmx_run(registers, fpu, vcpu.platformState & VMXState.phase == VMXState.launched ? 1 : 0)
            x86_reload_task_register()
            if result != 0 {
                // VMfailValid: the controls or host state were refused before anything of the guest was loaded.
                describeSyntheticExit(&vcpu.state, VMExit.failedEntry)
                vcpu.lastFailure = result == 1 ? "VM entry without a current VMCS (VMfailInvalid)"
                    : "the CPU refused the VMCS (VMfailValid, VM-instruction error \(x86_vmx_instruction_error()))"
                return .guest
            }
            let reason = VMCS.read(VMCS.exitReason)
            if reason & VMCS.entryFailed != 0 {
                // The guest state (or its MSR area) was refused: nothing ran, the state stays as loaded.
                describeSyntheticExit(&vcpu.state, VMExit.failedEntry)
                vcpu.lastFailure = (reason & 0xffff == VMCS.exitInvalidGuestState ? "the CPU refused the guest state"
                    : "the CPU refused the VM entry") + " (VM-entry failure, exit reason \(reason & 0xffff), "
                    + "qualification \(VMCS.read(VMCS.exitQualification)))"
                return .guest
            }
            vcpu.platformState = vcpu.platformState & ~VMXState.phase | VMXState.launched
            switch reason & 0xffff {
            case VMCS.exitExternalInterrupt:
                // Not acknowledged on exit: the interrupt is still pending, taken now.
                if let exit = interrupt(vector: x86_take_pending_interrupt()) {
                    store(vcpu, registers: registers)
                    return exit
                }
                reinjectVectoredEvent(vcpu)
            case VMCS.exitException where VMCS.read(VMCS.exitInterruption) >> 8 & 7 == VMCS.typeNMI:
                // The host's business, never the VMM's: the guest goes on where it was.
                reinjectVectoredEvent(vcpu)
            case VMCS.exitINIT, VMCS.exitSIPI:
                reinjectVectoredEvent(vcpu)
            case VMCS.exitINVD:
                // INVD would drop the host's dirty cache lines too: the kernel completes it as a no-op.
                skipInstruction(vcpu)
            case VMCS.exitCRAccess where takeControlRegisterZeroWrite(vcpu, registers):
                // A write that only changed a bit VMX operation forces (CR0.NE): the read shadow now has the
                // guest's value, and the guest runs the same instruction again, which completes without an exit.
                break
            default:
                store(vcpu, registers: registers)
                if !describe(reason & 0xffff, &vcpu.state) {
                    vcpu.lastFailure = "unexpected VMX exit reason \(reason & 0xffff)"
                }
                return .guest
            }
        }
    }

    /// The fields that never change for a vCPU: the VMCS is made and loaded, the controls, host state, bitmaps,
    /// MSR areas, EPT pointer and the guest's reset x87/SSE image (FCW 0x37f, MXCSR 0x1f80). A refused VMCS (it
    /// cannot be, from a kernel-zeroed frame) is reported rather than trapped.
    private func prepare(_ vcpu: VirtualCPU, _ registers: UnsafeMutablePointer<UInt64>) -> String? {
        let config = x86_vmx_configuration()!.pointee
        let vmcs = vcpu.frames[0]
        UnsafeMutablePointer<UInt32>(bitPattern: UInt(vmcs))!.pointee = config.revision
        guard x86_vmx_clear(vmcs) == 0, x86_vmx_load(vmcs) == 0 else { return "VMCLEAR/VMPTRLD refused the VMCS" }
        VMCS.write(VMCS.pinControls, UInt64(config.pin))
        VMCS.write(VMCS.primaryControls, UInt64(config.primary))
        VMCS.write(VMCS.secondaryControls, UInt64(config.secondary))
        VMCS.write(VMCS.exitControls, UInt64(config.exit))
        VMCS.write(VMCS.entryControls, UInt64(config.entry))
        VMCS.write(VMCS.cr3TargetCount, 0)
        VMCS.write(VMCS.pageFaultMask, 0)
        VMCS.write(VMCS.pageFaultMatch, 0)
        VMCS.write(VMCS.tprThreshold, 0)
        VMCS.write(VMCS.virtualAPIC, vcpu.frames[2])
        VMCS.write(VMCS.ioBitmapA, x86_vmx_io_bitmaps())
        VMCS.write(VMCS.ioBitmapB, x86_vmx_io_bitmaps() + 4096)
        VMCS.write(VMCS.msrBitmap, x86_vmx_msr_bitmap())
        VMCS.write(VMCS.eptPointer, vcpu.nestedRoot | VMCS.eptWriteBackFourLevels)
        // The syscall MSRs VMX does not switch: the guest's from its area at entry and into it at exit, the host's
        // from vmx.c's area at exit. The guest's start at 0 (the frame is zeroed); only the numbers are written.
        let msrs = UnsafeMutablePointer<UInt64>(bitPattern: UInt(vcpu.frames[1] + 1024))!
        let count = x86_vmx_switched_msr_count()
        for i in 0..<Int(count) { msrs[2 * i] = UInt64(x86_vmx_switched_msr(UInt32(i))) }
        VMCS.write(VMCS.entryMSRLoad, vcpu.frames[1] + 1024)
        VMCS.write(VMCS.exitMSRStore, vcpu.frames[1] + 1024)
        VMCS.write(VMCS.exitMSRLoad, x86_vmx_host_msr_area())
        VMCS.write(VMCS.entryMSRLoadCount, UInt64(count))
        VMCS.write(VMCS.exitMSRStoreCount, UInt64(count))
        VMCS.write(VMCS.exitMSRLoadCount, UInt64(count))
        // The kernel owns the CR0 bits VMX forces (NE) and every CR4 bit: CR4 writes exit (ABI.md).
        VMCS.write(VMCS.cr0Mask, config.cr0_forced)
        VMCS.write(VMCS.cr4Mask, ~0)
        VMCS.write(VMCS.linkPointer, ~0)
        VMCS.write(VMCS.guestDebugControl, 0)
        VMCS.write(VMCS.guestDR7, VMCS.resetDR7)
        VMCS.write(VMCS.guestPAT, VMCS.resetPAT)
        VMCS.write(VMCS.guestSysenterCS, 0)
        VMCS.write(VMCS.guestSysenterESP, 0)
        VMCS.write(VMCS.guestSysenterEIP, 0)
        VMCS.write(VMCS.guestActivity, 0)
        // Host state: the kernel's segments (descriptors.c), control registers, tables and MSRs as they are after
        // boot; HOST_RSP and HOST_CR3 are written by every entry (vmx.S).
        VMCS.write(VMCS.hostCS, 0x08)
        VMCS.write(VMCS.hostSS, 0x10)
        VMCS.write(VMCS.hostDS, 0x10)
        VMCS.write(VMCS.hostES, 0x10)
        VMCS.write(VMCS.hostFS, 0)
        VMCS.write(VMCS.hostGS, 0)
        VMCS.write(VMCS.hostTR, 0x28)
        VMCS.write(VMCS.hostCR0, config.host_cr0)
        VMCS.write(VMCS.hostCR4, config.host_cr4)
        VMCS.write(VMCS.hostFSBase, 0)
        VMCS.write(VMCS.hostGSBase, 0)
        VMCS.write(VMCS.hostTRBase, config.host_tr_base)
        VMCS.write(VMCS.hostGDTRBase, config.host_gdtr_base)
        VMCS.write(VMCS.hostIDTRBase, config.host_idtr_base)
        VMCS.write(VMCS.hostSysenterCS, 0)
        VMCS.write(VMCS.hostSysenterESP, 0)
        VMCS.write(VMCS.hostSysenterEIP, 0)
        VMCS.write(VMCS.hostEFER, config.host_efer)
        VMCS.write(VMCS.hostPAT, config.host_pat)
        VMCS.write(VMCS.hostRIP, x86_vmx_exit_address())
        let fpu = registers + 64
        fpu[0] = 0x037f
        fpu[3] = 0x1f80
        vcpu.platformState = VMXState.prepared
        return nil
    }

    /// Rewrites the CPU's VMX I/O bitmaps when the VM PD's ports differ from what they hold.
    private func installVMXGuestPorts(_ ports: IOPermissionBitmap?) {
        if ports == nil && installedGuestPorts == nil { return }
        guard ports != installedGuestPorts else { return }
        installedGuestPorts = ports
        if let ports {
            ports.allowedWords.withUnsafeBufferPointer { x86_vmx_set_io_permissions($0.baseAddress) }
        } else {
            x86_vmx_set_io_permissions(nil)
        }
    }

    /// The vCPU's state into its VMCS (and general registers and CR2 into its register frame), with what the kernel
    /// forces. Returns why the state cannot be entered on this CPU when it asks for a CR4 feature the CPU lacks
    /// (SVM's VMRUN refuses those as well).
    @_optimize(speed)
    private func load(_ vcpu: VirtualCPU, registers: UnsafeMutablePointer<UInt64>) -> String? {
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
            // The CPU wants a length of at least 1 and pushes rip + length: enter 1 byte earlier (`store` and
            // `reinjectVectoredEvent` undo it if the delivery is interrupted).
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
    private func store(_ vcpu: VirtualCPU, registers: UnsafeMutablePointer<UInt64>) {
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

    /// An event the exit interrupted (IDT-vectoring information) is injected again when the guest is re-entered
    /// directly; anything injected before was delivered.
    private func reinjectVectoredEvent(_ vcpu: VirtualCPU) {
        let vectoring = VMCS.read(VMCS.idtVectoring)
        let type = (vectoring >> 8) & 7
        let valid = vectoring & VMCS.interruptionValid != 0
        if valid && vcpu.platformState & VMXState.softwareInterruptEarly != 0 && type == VMCS.typeSoftwareInterrupt {
            // Still one byte early (rip was not moved): the same length 1 again.
            VMCS.write(VMCS.entryInterruption, vectoring & 0x8000_07ff)
            VMCS.write(VMCS.entryInstructionLength, 1)
        } else if valid && type != VMCS.typeSoftwareInterrupt && type < 5 {
            VMCS.write(VMCS.entryInterruption, vectoring & 0x8000_0fff)
            VMCS.write(VMCS.entryErrorCode, VMCS.read(VMCS.idtVectoringErrorCode))
            vcpu.platformState &= ~VMXState.softwareInterruptEarly
        } else {
            VMCS.write(VMCS.entryInterruption, 0)
            vcpu.platformState &= ~VMXState.softwareInterruptEarly
        }
    }

    /// Completes an instruction exit the kernel handles itself: rip moves past it, the interrupt shadow ends.
    private func skipInstruction(_ vcpu: VirtualCPU) {
        VMCS.write(VMCS.guestRIP, VMCS.read(VMCS.guestRIP) &+ VMCS.read(VMCS.exitInstructionLength))
        VMCS.write(VMCS.guestInterruptibility, VMCS.read(VMCS.guestInterruptibility) & ~3)
        reinjectVectoredEvent(vcpu)
    }

    /// A MOV to CR0 that exited only because it changed a bit VMX operation forces (the mask holds no other CR0
    /// bit): the read shadow takes the guest's new value of those bits, so the same instruction, run again, no
    /// longer exits. False for any other CR access (it goes to the VMM).
    private func takeControlRegisterZeroWrite(_ vcpu: VirtualCPU, _ registers: UnsafeMutablePointer<UInt64>) -> Bool {
        let q = VMCS.read(VMCS.exitQualification)
        guard q & 0xf == 0, (q >> 4) & 3 == 0 else { return false }
        // The qualification names the register in x86 encoding order; the frame has GuestState's (no rsp).
        let register = Int((q >> 8) & 0xf)
        let value = register == 4 ? VMCS.read(VMCS.guestRSP) : registers[register < 4 ? register : register - 1]
        let forced = x86_vmx_configuration()!.pointee.cr0_forced
        let shadow = VMCS.read(VMCS.cr0Shadow)
        guard (value ^ shadow) & forced != 0 else { return false }
        VMCS.write(VMCS.cr0Shadow, shadow & ~forced | value & forced)
        reinjectVectoredEvent(vcpu)
        return true
    }

    private func describeSyntheticExit(_ s: inout GuestState, _ reason: UInt64) {
        s.exitReason = reason
        s.qualification0 = 0; s.qualification1 = 0; s.qualificationFlags = 0
        s.guestLinear = 0; s.guestPhysical = 0; s.instructionLength = 0
    }

    /// The exit information of basic exit reason `reason` in vendor-neutral terms (what SVM's `describe` gives,
    /// plus the instruction length and guest-linear address VMX knows): false when the reason has no meaning here
    /// (then the exit is `failedEntry`: the VMM cannot resume a guest whose exit it is not told).
    @_optimize(speed)
    private func describe(_ reason: UInt64, _ s: inout GuestState) -> Bool {
        describeSyntheticExit(&s, VMExit.failedEntry)
        let q = VMCS.read(VMCS.exitQualification)
        func length() {
            s.instructionLength = VMCS.read(VMCS.exitInstructionLength)
            s.qualificationFlags |= GuestStateLayout.lengthKnown
        }
        switch reason {
        case VMCS.exitCPUID: s.exitReason = VMExit.cpuid; length()
        case VMCS.exitHLT: s.exitReason = VMExit.hlt; length()
        case VMCS.exitIO:
            // Qualification: size - 1 in 0-2, IN 3, string 4, REP 5, port 16-31. Qualification 1 is the next rip,
            // as SVM's EXITINFO2 gives it; a string instruction's operand address is known.
            s.exitReason = VMExit.io
            length()
            s.qualification0 = IOQualification.make(port: q >> 16, size: (q & 7) + 1, isIn: q & (1 << 3) != 0,
                                                    isString: q & (1 << 4) != 0, isRep: q & (1 << 5) != 0)
            s.qualification1 = s.rip &+ s.instructionLength
            if q & (1 << 4) != 0 {
                s.guestLinear = VMCS.read(VMCS.guestLinearAddress)
                s.qualificationFlags |= GuestStateLayout.linearKnown
            }
        case VMCS.exitRDMSR, VMCS.exitWRMSR:
            s.exitReason = reason == VMCS.exitRDMSR ? VMExit.rdmsr : VMExit.wrmsr
            s.qualification0 = s.registers[1] & 0xffff_ffff
            length()
        case VMCS.exitVMCALL: s.exitReason = VMExit.hypercall; length()
        case VMCS.exitGETSEC, VMCS.exitVMCLEAR...VMCS.exitVMXON, VMCS.exitINVEPT, VMCS.exitINVVPID:
            s.exitReason = VMExit.virtualizationInstruction
            length()
        case VMCS.exitXSETBV: s.exitReason = VMExit.xsetbv; length()
        case VMCS.exitEPTViolation:
            // Qualification: read 0, write 1, fetch 2, the entry's R/W/X 3-5 (any: a mapping was there), linear
            // address valid 7.
            s.exitReason = VMExit.nestedPageFault
            s.guestPhysical = VMCS.read(VMCS.guestPhysicalAddress)
            var access = q & (1 << 2) != 0 ? NestedFaultQualification.execute
                : q & (1 << 1) != 0 ? NestedFaultQualification.write : NestedFaultQualification.read
            if q & (7 << 3) != 0 { access |= NestedFaultQualification.present }
            s.qualification0 = access
            if q & (1 << 7) != 0 {
                s.guestLinear = VMCS.read(VMCS.guestLinearAddress)
                s.qualificationFlags |= GuestStateLayout.linearKnown
            }
        case VMCS.exitCRAccess:
            // Qualification: CR number 0-3, access type 4-5 (0 MOV to CR, 1 MOV from CR, 2 CLTS, 3 LMSW).
            // As on SVM the VMM decodes the instruction; the length is known here.
            s.exitReason = VMExit.crAccess
            s.qualification0 = q & 0xf | ((q >> 4) & 3 == 1 ? 0 : 1 << 4)
            length()
        case VMCS.exitTripleFault: s.exitReason = VMExit.shutdown
        case VMCS.exitInterruptWindow: s.exitReason = VMExit.interruptWindow
        case VMCS.exitException:
            // An intercepted exception: its error code in qualification 0 (SVM's EXITINFO1), for #PF the linear
            // address in qualification 1 (EXITINFO2); the guest's CR2 is not written, as on SVM.
            // INT3 / INTO / INT1 (software exceptions) are instructions: their length is known.
            let info = VMCS.read(VMCS.exitInterruption)
            s.exitReason = info & 0x1f
            s.qualification0 = info & VMCS.interruptionErrorCode != 0 ? VMCS.read(VMCS.exitInterruptionErrorCode) : 0
            s.qualification1 = s.exitReason == 14 ? q : 0
            if (info >> 8) & 7 >= 5 { length() }
        case VMCS.exitEPTMisconfiguration:
            // Only the kernel writes EPT entries: this is a kernel bug, reported, never trapped on.
            s.guestPhysical = VMCS.read(VMCS.guestPhysicalAddress)
            return false
        default:
            return false
        }
        return true
    }
}
