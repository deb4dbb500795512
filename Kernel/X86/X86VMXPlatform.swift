import Kernel
import KernelABI
import X86Shims

/// The Intel VMX backend of `Platform`'s VM part (ABI.md "Virtual machines"), behind the same vendor-neutral
/// interface as the SVM one (X86GuestVendor.swift picks one at boot by CPUID): a vCPU's `GuestState` is written into
/// its VMCS before every VM entry and read back after the VM exit, whose basic exit reason is mapped onto `VMExit`.
/// VMX tells the instruction length of instruction exits and the guest-linear address of string I/O and most EPT
/// violations, so those are marked known (`qualificationFlags`), unlike on QEMU's SVM. The state transfer is in
/// X86VMXGuestState.swift, the exits in X86VMXExits.swift, the field encodings in VMCS.swift.
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
/// - `platformState` (`VMXState`): 0 until `vmxPrepare` wrote the fields that never change, then prepared (VMCS clear)
///   or launched, and whether the guest was entered one byte early for a software interrupt (see `vmxLoad`).
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
        // vmx.c checked that both types exist and tags are never 0: a refusal would be a kernel bug.
        let vpids = tag.map { x86_vmx_flush_vpid($0) } ?? x86_vmx_flush_all_vpids()
        guard vpids == 0, x86_vmx_flush_ept() == 0 else {
            preconditionFailure("kernel bug: INVVPID or INVEPT refused a flush")
        }
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
            if let problem = vmxPrepare(vcpu, registers) {
                vmxDescribeSyntheticExit(&vcpu.state, VMExit.failedEntry)
                vcpu.lastFailure = problem
                return .guest
            }
        } else if x86_vmx_load(vcpu.frames[0]) != 0 {
            preconditionFailure("kernel bug: VMPTRLD refused a vCPU's VMCS")
        }
        installGuestPorts(of: vcpu) { x86_vmx_set_io_permissions($0) }
        if vcpu.state.halted {
            // The VMM's "halted" waits here, as on SVM: for an event to inject, an interrupt window, or a host
            // interrupt (which ends the wait as it would end the guest).
            if vcpu.state.injection & (1 << 31) != 0 {
                vcpu.state.halted = false
            } else if vcpu.state.interruptWindowRequested && vcpu.state.rflags & (1 << 9) != 0 {
                vcpu.state.halted = false
                vmxDescribeSyntheticExit(&vcpu.state, VMExit.interruptWindow)
                return .guest
            } else {
                return idle()
            }
        }
        if let problem = vmxLoad(vcpu, registers: registers) {
            vmxDescribeSyntheticExit(&vcpu.state, VMExit.failedEntry)
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
                vmxDescribeSyntheticExit(&vcpu.state, VMExit.failedEntry)
                vcpu.lastFailure = result == 1 ? "VM entry without a current VMCS (VMfailInvalid)"
                    : "the CPU refused the VMCS (VMfailValid, VM-instruction error \(x86_vmx_instruction_error()))"
                return .guest
            }
            let reason = VMCS.read(VMCS.exitReason)
            if reason & VMCS.entryFailed != 0 {
                // The guest state (or its MSR area) was refused: nothing ran, the state stays as loaded.
                vmxDescribeSyntheticExit(&vcpu.state, VMExit.failedEntry)
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
                    vmxStore(vcpu, registers: registers)
                    return exit
                }
                vmxReinjectVectoredEvent(vcpu)
            case VMCS.exitException where VMCS.read(VMCS.exitInterruption) >> 8 & 7 == VMCS.typeNMI:
                // The host's, never the VMM's: the exit consumed it (NMI exiting), so it is counted here as
                // traps.S counts the others; the guest goes on where it was.
                x86_note_nmi()
                guestNMIExits &+= 1
                vmxReinjectVectoredEvent(vcpu)
            case VMCS.exitINIT, VMCS.exitSIPI:
                vmxReinjectVectoredEvent(vcpu)
            case VMCS.exitINVD:
                // INVD would drop the host's dirty cache lines too: the kernel completes it as a no-op.
                vmxSkipInstruction(vcpu)
            case VMCS.exitCRAccess where vmxTakeControlRegisterZeroWrite(vcpu, registers):
                // A write that only changed a bit VMX operation forces (CR0.NE): the read shadow now has the
                // guest's value, and the guest runs the same instruction again, which completes without an exit.
                break
            default:
                vmxStore(vcpu, registers: registers)
                if !vmxDescribe(reason & 0xffff, &vcpu.state) {
                    vcpu.lastFailure = "unexpected VMX exit reason \(reason & 0xffff)"
                }
                return .guest
            }
        }
    }

    /// The fields that never change for a vCPU: the VMCS is made and loaded, the controls, host state, bitmaps,
    /// MSR areas, EPT pointer and the guest's reset x87/SSE image (FCW 0x37f, MXCSR 0x1f80). A refused VMCS (it
    /// cannot be, from a kernel-zeroed frame) is reported rather than trapped.
    func vmxPrepare(_ vcpu: VirtualCPU, _ registers: UnsafeMutablePointer<UInt64>) -> String? {
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
}
