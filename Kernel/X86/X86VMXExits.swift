import Kernel
import KernelABI
import X86Shims

/// VMX exits (the VMX backend, X86VMXPlatform.swift): the ones the kernel completes itself before it re-enters the
/// guest, and the others in vendor-neutral terms (`VMExit`), as SVM's `describe` gives them plus the instruction
/// length and guest-linear address VMX knows.
extension X86Platform {
    /// An event the exit interrupted (IDT-vectoring information) is injected again when the guest is re-entered
    /// directly; anything injected before was delivered.
    func vmxReinjectVectoredEvent(_ vcpu: VirtualCPU) {
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
    func vmxSkipInstruction(_ vcpu: VirtualCPU) {
        VMCS.write(VMCS.guestRIP, VMCS.read(VMCS.guestRIP) &+ VMCS.read(VMCS.exitInstructionLength))
        VMCS.write(VMCS.guestInterruptibility, VMCS.read(VMCS.guestInterruptibility) & ~3)
        vmxReinjectVectoredEvent(vcpu)
    }

    /// A MOV to CR0 that exited only because it changed a bit VMX operation forces (the mask holds no other CR0
    /// bit): the read shadow takes the guest's new value of those bits, so the same instruction, run again, no
    /// longer exits. False for any other CR access (it goes to the VMM).
    func vmxTakeControlRegisterZeroWrite(_ vcpu: VirtualCPU, _ registers: UnsafeMutablePointer<UInt64>) -> Bool {
        let q = VMCS.read(VMCS.exitQualification)
        guard q & 0xf == 0, (q >> 4) & 3 == 0 else { return false }
        // The qualification names the register in x86 encoding order; the frame has GuestState's (no rsp).
        let register = Int((q >> 8) & 0xf)
        let value = register == 4 ? VMCS.read(VMCS.guestRSP) : registers[register < 4 ? register : register - 1]
        let forced = x86_vmx_configuration()!.pointee.cr0_forced
        let shadow = VMCS.read(VMCS.cr0Shadow)
        guard (value ^ shadow) & forced != 0 else { return false }
        VMCS.write(VMCS.cr0Shadow, shadow & ~forced | value & forced)
        vmxReinjectVectoredEvent(vcpu)
        return true
    }

    func vmxDescribeSyntheticExit(_ s: inout GuestState, _ reason: UInt64) {
        s.exitReason = reason
        s.qualification0 = 0; s.qualification1 = 0; s.qualificationFlags = 0
        s.guestLinear = 0; s.guestPhysical = 0; s.instructionLength = 0
    }

    /// The exit information of basic exit reason `reason` in vendor-neutral terms (what SVM's `describe` gives,
    /// plus the instruction length and guest-linear address VMX knows): false when the reason has no meaning here
    /// (then the exit is `failedEntry`: the VMM cannot resume a guest whose exit it is not told).
    @_optimize(speed)
    func vmxDescribe(_ reason: UInt64, _ s: inout GuestState) -> Bool {
        vmxDescribeSyntheticExit(&s, VMExit.failedEntry)
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
