import Kernel
import KernelABI
import X86Shims

/// The SVM backend of `Platform`'s VM part (ABI.md "Virtual machines"; X86GuestVendor.swift dispatches to it on AMD
/// CPUs, to X86VMXPlatform.swift on Intel ones): a vCPU's `GuestState` is loaded into its
/// VMCB before every VMRUN and read back after the #VMEXIT, whose code is mapped onto `VMExit` the way the
/// simulator's `GuestState.describe` does (QEMU's SVM: no next-rip save, no decode assists).
///
/// Per-vCPU frames (`VirtualCPU.frames`, pool pages, zeroed by the kernel): 0 the VMCB; 1 the guest's general
/// registers other than rax (words 0-14, `GuestState.registers` order) and its FXSAVE image (bytes 512-1023). The
/// I/O and MSR permission maps and the host save areas are this CPU's (svm.c), so no frame needs a contiguous run.
///
/// Invariants (a guest or VMM must never fault the kernel):
/// - every VMCB field is written here from a checked `GuestState` (Kernel.entryProblem ran) or forced: the
///   intercepts of `VMCB.crWrites` / `misc1` / `misc2` / `alwaysInterceptedExceptions`, EFER.SVME, V_INTR_MASKING (the host's
///   IF, not the guest's, gates physical interrupts), nested paging on `vcpu.nestedRoot` with ASID `vcpu.tag`, the
///   CPU's permission maps; what VMRUN still refuses is VMEXIT_INVALID, reported as exit `failedEntry`;
/// - `platformState` is 0 until `prepare` wrote the fields that never change, 1 after.
extension X86Platform {
    var svmTagCount: UInt64 { guestASIDs > 1 ? guestASIDs - 1 : 0 }
    var svmStateFrames: UInt64 { 2 }

    func flushSVMGuestTranslations(tag: UInt64?) {
        // QEMU's SVM has no flush by ASID: every request flushes all guest translations at the next VMRUN.
        guestFlushPending = true
    }

    /// Nothing of a vCPU lives outside its frames (the VMCB clean bits are always 0, so no CPU may cache a VMCB
    /// across VMRUNs: a new vCPU's VMCB in a reused frame is read afresh).
    func releaseSVMGuest(_ vcpu: VirtualCPU) {}

    @_optimize(speed)
    func enterSVMGuest(_ vcpu: VirtualCPU) -> Exit {
        guard guestASIDs > 1, vcpu.frames.count >= 2, vcpu.tag != 0, vcpu.tag < guestASIDs else {
            preconditionFailure("kernel bug: a vCPU entered without SVM, its frames or an ASID")
        }
        let vmcb = VMCB(vcpu.frames[0])
        let registers = UnsafeMutablePointer<UInt64>(bitPattern: UInt(vcpu.frames[1]))!
        if vcpu.platformState == 0 { prepare(vcpu, vmcb, fpu: registers + 64) }
        installGuestPorts(of: vcpu) { x86_svm_set_io_permissions($0) }
        if vcpu.state.halted {
            // SVM has no halted state (HLT always exits): the VMM's "halted" waits here for an event to inject,
            // an interrupt window, or a host interrupt (which ends the wait as it would end the guest).
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
        load(&vcpu.state, groups: vcpu.dirtyGroups, into: vmcb, registers: registers, tag: vcpu.tag)
        vcpu.dirtyGroups = 0
        while true {
            vmcb.set(VMCB.tlbControl, guestFlushPending ? VMCB.tlbFlushAll : 0)
            guestFlushPending = false
            x86_svm_run(vcpu.frames[0], registers, x86_svm_host_area(), registers + 64)
            let code = vmcb.u64(VMCB.exitCode)
            switch code {
            case VMCB.exitINTR:
                // The interrupt is still pending (GIF was 0 until after the exit): take it now.
                let exit = interrupt(vector: x86_take_pending_interrupt())
                if let exit {
                    store(vmcb, into: &vcpu.state)
                    vcpu.staleGroups = GuestState.deferrableGroups
                    return exit
                }
                reinject(vmcb)
            case VMCB.exitNMI:
                // The host's, never the VMM's: GIF held it across the exit, svm.S's STGI let traps.S count it.
                guestNMIExits &+= 1
                reinject(vmcb)
            case VMCB.exitINVD, VMCB.exitWBINVD:
                // Completed as no-ops (VMCB.interceptINVD): both are two bytes. QEMU's SVM gives no next rip, so
                // like CPUID's fixed length a prefixed one would resume inside itself (the guest's own harm).
                vmcb.set(VMCB.rip, vmcb.u64(VMCB.rip) &+ 2)
                vmcb.set(VMCB.interruptShadow, UInt64(0))
                reinject(vmcb)
            case VMCB.exitSMI, VMCB.exitINIT:
                // The host's business, never the VMM's; the guest goes on where it was.
                reinject(vmcb)
            case VMCB.exitInvalid:
                // Nothing ran: the state stays as loaded.
                describeSyntheticExit(&vcpu.state, VMExit.failedEntry)
                vcpu.lastFailure = "the CPU refused the VMCB (VMEXIT_INVALID)"
                return .guest
            default:
                store(vmcb, into: &vcpu.state)
                vcpu.staleGroups = GuestState.deferrableGroups
                if !describe(code, vmcb, registers: registers, &vcpu.state) {
                    vcpu.lastFailure = "unexpected SVM exit code 0x" + String(code, radix: 16)
                }
                return .guest
            }
        }
    }

    /// The fields that never change for a vCPU, and its x87/SSE reset image (FCW 0x37f, MXCSR 0x1f80).
    private func prepare(_ vcpu: VirtualCPU, _ vmcb: VMCB, fpu: UnsafeMutablePointer<UInt64>) {
        vmcb.set(VMCB.interceptCR, VMCB.crWrites)
        vmcb.set(VMCB.interceptMisc1, VMCB.misc1)
        vmcb.set(VMCB.interceptMisc2, VMCB.misc2)
        vmcb.set(VMCB.iopmBase, x86_svm_iopm())
        vmcb.set(VMCB.msrpmBase, x86_svm_msrpm())
        vmcb.set(VMCB.nestedPagingEnable, UInt64(1))
        vmcb.set(VMCB.nestedCR3, vcpu.nestedRoot)
        vmcb.set(VMCB.guestPAT, VMCB.resetPAT)
        vmcb.set(VMCB.dr6, UInt64(0xffff_0ff0))
        vmcb.set(VMCB.dr7, UInt64(0x400))
        vmcb.set(VMCB.cleanBits, UInt32(0))
        fpu[0] = 0x037f
        fpu[3] = 0x1f80
        vcpu.platformState = 1
    }

    /// The vCPU's state into its VMCB (and general registers into its register frame), with what the kernel forces:
    /// the deferrable groups only when the kernel changed them (`groups`: VirtualCPU.dirtyGroups; otherwise the VMCB
    /// and frame still hold what the guest left), the others on every entry. `inout` only so the state is read in
    /// place, never copied.
    @_optimize(speed) @inline(__always)
    private func load(_ s: inout GuestState, groups: UInt64, into vmcb: VMCB, registers: UnsafeMutablePointer<UInt64>,
                      tag: UInt64) {
        if groups & TransferDescriptor.generalRegisters != 0 {
            s.registers.withUnsafeBufferPointer { r in
                guard let words = r.baseAddress, r.count == 15 else { return }
                vmcb.set(VMCB.rax, words.pointee)
                UnsafeMutableRawPointer(registers + 1).copyMemory(from: words + 1, byteCount: 14 * 8)
            }
        }
        vmcb.set(VMCB.rsp, s.rsp)
        vmcb.set(VMCB.rip, s.rip)
        vmcb.set(VMCB.rflags, s.rflags)
        if groups & TransferDescriptor.controlRegisters != 0 {
            vmcb.set(VMCB.cr0, s.cr0)
            vmcb.set(VMCB.cr2, s.cr2)
            vmcb.set(VMCB.cr3, s.cr3)
            vmcb.set(VMCB.cr4, s.cr4)
            vmcb.set(VMCB.efer, s.efer | VMCB.eferSVME)
        }
        if groups & TransferDescriptor.segments != 0 {
            s.segments.withUnsafeBufferPointer { segments in
                for i in 0..<GuestState.segmentCount {
                    let at = VMCB.segment(i)
                    vmcb.set(at, segments[i].selector)
                    vmcb.set(at + 2, segments[i].attributes)
                    vmcb.set(at + 4, segments[i].limit)
                    vmcb.set(at + 8, segments[i].base)
                }
            }
        }
        if groups & TransferDescriptor.descriptorTables != 0 {
            vmcb.set(VMCB.gdtr + 4, UInt32(truncatingIfNeeded: s.gdtrLimit))
            vmcb.set(VMCB.gdtr + 8, s.gdtrBase)
            vmcb.set(VMCB.idtr + 4, UInt32(truncatingIfNeeded: s.idtrLimit))
            vmcb.set(VMCB.idtr + 8, s.idtrBase)
        }
        if groups & (TransferDescriptor.controlRegisters | TransferDescriptor.stack | TransferDescriptor.segments) != 0 {
            // CPL: 0 in real mode, 3 in virtual-8086 mode, else SS.DPL (from the VMCB: the groups may be deferred).
            let cpl: UInt8
            if vmcb.u64(VMCB.cr0) & 1 == 0 { cpl = 0 } else if s.rflags & (1 << 17) != 0 { cpl = 3 } else {
                cpl = UInt8(truncatingIfNeeded: (vmcb.u16(VMCB.segment(2) + 2) >> 5) & 3)
            }
            vmcb.set(VMCB.cpl, cpl)
        }
        vmcb.set(VMCB.interruptShadow, UInt64(s.interruptShadow ? 1 : 0))
        // GuestStateLayout.injection is the EVENTINJ format (vector 0-7, type 8-10, EV 11, V 31); the kernel checked it.
        let inject = s.injection & (1 << 31) != 0
        vmcb.set(VMCB.eventInjection, inject ? s.injection & 0x8000_0fff | s.injectionErrorCode << 32 : 0)
        vmcb.set(VMCB.tscOffset, s.tscOffset)
        vmcb.set(VMCB.interceptExceptions, s.exceptionBitmap | VMCB.alwaysInterceptedExceptions)
        var virtualInterrupt = VMCB.vInterruptMasking
        var misc1 = VMCB.misc1
        if s.interruptWindowRequested {
            virtualInterrupt |= VMCB.vIRQ | VMCB.vIgnoreTPR | VMCB.vPriorityHighest
            misc1 |= VMCB.interceptVINTR
        }
        vmcb.set(VMCB.virtualInterrupt, virtualInterrupt)
        vmcb.set(VMCB.interceptMisc1, misc1)
        vmcb.set(VMCB.asid, UInt32(truncatingIfNeeded: tag))
    }

    /// An event the exit interrupted (EXITINTINFO) is injected again when the guest is re-entered directly.
    private func reinject(_ vmcb: VMCB) {
        let pending = vmcb.u64(VMCB.exitInterruptInfo)
        vmcb.set(VMCB.eventInjection, pending & (1 << 31) != 0 ? pending : 0)
    }

    /// The groups of `groups` that an exit leaves in the VMCB and register frame (`GuestState.deferrableGroups`),
    /// copied into the vCPU's state when the kernel needs them (EFER.SVME is the kernel's, not shown).
    func fetchSVMGuestState(_ vcpu: VirtualCPU, groups: UInt64) {
        let stale = vcpu.staleGroups & groups
        guard stale != 0, vcpu.frames.count >= 2 else { return }
        let vmcb = VMCB(vcpu.frames[0])
        let registers = UnsafeMutablePointer<UInt64>(bitPattern: UInt(vcpu.frames[1]))!
        if stale & TransferDescriptor.generalRegisters != 0 {
            vcpu.state.registers.withUnsafeMutableBufferPointer { r in
                guard let words = r.baseAddress, r.count == 15 else { return }
                words.pointee = vmcb.u64(VMCB.rax)
                UnsafeMutableRawPointer(words + 1).copyMemory(from: registers + 1, byteCount: 14 * 8)
            }
        }
        if stale & TransferDescriptor.controlRegisters != 0 {
            vcpu.state.cr0 = vmcb.u64(VMCB.cr0)
            vcpu.state.cr2 = vmcb.u64(VMCB.cr2)
            vcpu.state.cr3 = vmcb.u64(VMCB.cr3)
            vcpu.state.cr4 = vmcb.u64(VMCB.cr4)
            vcpu.state.efer = vmcb.u64(VMCB.efer) & ~VMCB.eferSVME
        }
        if stale & TransferDescriptor.segments != 0 {
            vcpu.state.segments.withUnsafeMutableBufferPointer { segments in
                for i in 0..<GuestState.segmentCount {
                    let at = VMCB.segment(i)
                    segments[i] = SegmentState(selector: vmcb.u16(at), attributes: vmcb.u16(at + 2),
                                               limit: vmcb.u32(at + 4), base: vmcb.u64(at + 8))
                }
            }
        }
        if stale & TransferDescriptor.descriptorTables != 0 {
            vcpu.state.gdtrLimit = UInt64(vmcb.u32(VMCB.gdtr + 4) & 0xffff)
            vcpu.state.gdtrBase = vmcb.u64(VMCB.gdtr + 8)
            vcpu.state.idtrLimit = UInt64(vmcb.u32(VMCB.idtr + 4) & 0xffff)
            vcpu.state.idtrBase = vmcb.u64(VMCB.idtr + 8)
        }
        vcpu.staleGroups &= ~stale
    }

    @_optimize(speed)
    func copySVMGuestRegisters(_ vcpu: VirtualCPU, out: Bool, physical address: UInt64) {
        guard vcpu.frames.count >= 2 else { return }
        let vmcb = VMCB(vcpu.frames[0])
        let frame = UnsafeMutablePointer<UInt64>(bitPattern: UInt(vcpu.frames[1])).unsafelyUnwrapped
        let memory = UnsafeMutablePointer<UInt64>(bitPattern: UInt(address)).unsafelyUnwrapped
        // rax lives in the VMCB, the others in the register frame (words 1-14).
        if out {
            memory.pointee = vmcb.u64(VMCB.rax)
            UnsafeMutableRawPointer(memory + 1).copyMemory(from: frame + 1, byteCount: 14 * 8)
        } else {
            vmcb.set(VMCB.rax, memory.pointee)
            UnsafeMutableRawPointer(frame + 1).copyMemory(from: memory + 1, byteCount: 14 * 8)
        }
    }

    /// What every exit copies from the VMCB: the groups that are not deferrable.
    @_optimize(speed) @inline(__always)
    private func store(_ vmcb: VMCB, into s: inout GuestState) {
        s.rsp = vmcb.u64(VMCB.rsp)
        s.rip = vmcb.u64(VMCB.rip)
        s.rflags = vmcb.u64(VMCB.rflags)
        s.interruptShadow = vmcb.u64(VMCB.interruptShadow) & 1 != 0
        s.halted = false
        // An event whose delivery the exit interrupted is still to be injected; anything injected was delivered.
        let pending = vmcb.u64(VMCB.exitInterruptInfo)
        if pending & (1 << 31) != 0 {
            s.injection = pending & 0x8000_0fff
            s.injectionErrorCode = pending & (1 << 11) != 0 ? pending >> 32 : 0
        } else {
            s.injection = 0
        }
    }

    private func describeSyntheticExit(_ s: inout GuestState, _ reason: UInt64) {
        s.exitReason = reason
        s.qualification0 = 0; s.qualification1 = 0; s.qualificationFlags = 0
        s.guestLinear = 0; s.guestPhysical = 0; s.instructionLength = 0
    }

    /// The exit information of SVM exit `code` in vendor-neutral terms (Sim/SimGuestPlatform.swift's `describe`
    /// for the simulator's guest CPU gives the same): false when the code has no meaning here (then the exit is
    /// `failedEntry`: the VMM cannot resume a guest whose exit it is not told).
    @_optimize(speed) @inline(__always)
    private func describe(_ code: UInt64, _ vmcb: VMCB, registers: UnsafeMutablePointer<UInt64>,
                          _ s: inout GuestState) -> Bool {
        describeSyntheticExit(&s, VMExit.failedEntry)
        let info1 = vmcb.u64(VMCB.exitInfo1), info2 = vmcb.u64(VMCB.exitInfo2)
        func length(_ bytes: UInt64) {
            s.instructionLength = bytes
            s.qualificationFlags |= GuestStateLayout.lengthKnown
        }
        switch code {
        case VMCB.exitCPUID: s.exitReason = VMExit.cpuid; length(2)
        case VMCB.exitHLT: s.exitReason = VMExit.hlt; length(1)
        case VMCB.exitIOIO:
            // EXITINFO1: IN 0, STR 2, REP 3, SZ8/16/32 4-6, port 16-31; EXITINFO2: the next rip.
            s.exitReason = VMExit.io
            let size: UInt64 = info1 & (1 << 4) != 0 ? 1 : info1 & (1 << 5) != 0 ? 2 : 4
            s.qualification0 = IOQualification.make(port: info1 >> 16, size: size, isIn: info1 & 1 != 0,
                                                    isString: info1 & (1 << 2) != 0, isRep: info1 & (1 << 3) != 0)
            s.qualification1 = info2
            length(info2 &- s.rip)
        case VMCB.exitMSR:
            s.exitReason = info1 & 1 == 0 ? VMExit.rdmsr : VMExit.wrmsr
            s.qualification0 = registers[1] & 0xffff_ffff   // ecx, still in the register frame
            length(2)
        case VMCB.exitVMMCALL: s.exitReason = VMExit.hypercall; length(3)
        case VMCB.exitVMRUN...VMCB.exitSKINIT, VMCB.exitINVLPGA:
            s.exitReason = VMExit.virtualizationInstruction
        case VMCB.exitXSETBV: s.exitReason = VMExit.xsetbv; length(3)
        case VMCB.exitNPF:
            // EXITINFO1: P 0 (a mapping was there), RW 1, ID 4 (instruction fetch); EXITINFO2: guest-physical.
            s.exitReason = VMExit.nestedPageFault
            s.guestPhysical = info2
            var access = info1 & (1 << 4) != 0 ? NestedFaultQualification.execute
                : info1 & (1 << 1) != 0 ? NestedFaultQualification.write : NestedFaultQualification.read
            if info1 & 1 != 0 { access |= NestedFaultQualification.present }
            s.qualification0 = access
        case VMCB.exitCRWrite..<VMCB.exitCRWrite + 16:
            // The value is unknown here (qualification 1 = 0): the VMM decodes the instruction.
            s.exitReason = VMExit.crAccess
            s.qualification0 = (code - VMCB.exitCRWrite) | 1 << 4
        case VMCB.exitShutdown: s.exitReason = VMExit.shutdown
        case VMCB.exitVINTR: s.exitReason = VMExit.interruptWindow
        case VMCB.exitException..<VMCB.exitException + 32:
            s.exitReason = code - VMCB.exitException
            s.qualification0 = info1
            s.qualification1 = info2
        default:
            return false
        }
        return true
    }
}
