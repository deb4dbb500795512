import X86Shims

/// The VMCS fields the VMX backend uses (SDM vol. 3, appendix B: encodings), its exit reasons (appendix C) and
/// typed access to the current VMCS through VMREAD / VMWRITE (vmx.h). A vCPU's VMCS is its pool frame
/// `VirtualCPU.frames[0]`; which VMCS is current is vmx.c's business (`x86_vmx_load`).
enum VMCS {
    @inline(__always) static func read(_ field: UInt64) -> UInt64 { x86_vmread(field) }
    @inline(__always) static func write(_ field: UInt64, _ value: UInt64) { x86_vmwrite(field, value) }

    // MARK: 16-bit fields
    static let vpid: UInt64 = 0x0000
    /// Guest selector of segment `i` in GuestState's order (es, cs, ss, ds, fs, gs, ldtr, tr): the VMCS has them in
    /// the same order, 2 apart, as it has their limits, access rights and bases.
    @inline(__always) static func guestSelector(_ i: Int) -> UInt64 { 0x0800 + 2 * UInt64(i) }
    static let hostES: UInt64 = 0x0c00, hostCS: UInt64 = 0x0c02, hostSS: UInt64 = 0x0c04, hostDS: UInt64 = 0x0c06
    static let hostFS: UInt64 = 0x0c08, hostGS: UInt64 = 0x0c0a, hostTR: UInt64 = 0x0c0c

    // MARK: 64-bit fields
    static let ioBitmapA: UInt64 = 0x2000, ioBitmapB: UInt64 = 0x2002, msrBitmap: UInt64 = 0x2004
    static let exitMSRStore: UInt64 = 0x2006, exitMSRLoad: UInt64 = 0x2008, entryMSRLoad: UInt64 = 0x200a
    static let tscOffset: UInt64 = 0x2010
    static let virtualAPIC: UInt64 = 0x2012
    static let eptPointer: UInt64 = 0x201a
    static let guestPhysicalAddress: UInt64 = 0x2400
    static let linkPointer: UInt64 = 0x2800
    static let guestDebugControl: UInt64 = 0x2802, guestPAT: UInt64 = 0x2804, guestEFER: UInt64 = 0x2806
    static let hostPAT: UInt64 = 0x2c00, hostEFER: UInt64 = 0x2c02

    // MARK: 32-bit fields
    static let pinControls: UInt64 = 0x4000, primaryControls: UInt64 = 0x4002
    static let exceptionBitmap: UInt64 = 0x4004
    static let pageFaultMask: UInt64 = 0x4006, pageFaultMatch: UInt64 = 0x4008, cr3TargetCount: UInt64 = 0x400a
    static let exitControls: UInt64 = 0x400c, exitMSRStoreCount: UInt64 = 0x400e, exitMSRLoadCount: UInt64 = 0x4010
    static let entryControls: UInt64 = 0x4012, entryMSRLoadCount: UInt64 = 0x4014
    static let entryInterruption: UInt64 = 0x4016, entryErrorCode: UInt64 = 0x4018
    static let entryInstructionLength: UInt64 = 0x401a
    static let tprThreshold: UInt64 = 0x401c
    static let secondaryControls: UInt64 = 0x401e
    static let instructionError: UInt64 = 0x4400
    static let exitReason: UInt64 = 0x4402
    static let exitInterruption: UInt64 = 0x4404, exitInterruptionErrorCode: UInt64 = 0x4406
    static let idtVectoring: UInt64 = 0x4408, idtVectoringErrorCode: UInt64 = 0x440a
    static let exitInstructionLength: UInt64 = 0x440c
    @inline(__always) static func guestLimit(_ i: Int) -> UInt64 { 0x4800 + 2 * UInt64(i) }
    @inline(__always) static func guestAccessRights(_ i: Int) -> UInt64 { 0x4814 + 2 * UInt64(i) }
    static let guestGDTRLimit: UInt64 = 0x4810, guestIDTRLimit: UInt64 = 0x4812
    static let guestInterruptibility: UInt64 = 0x4824, guestActivity: UInt64 = 0x4826
    static let guestSysenterCS: UInt64 = 0x482a
    static let hostSysenterCS: UInt64 = 0x4c00

    // MARK: natural-width fields
    static let cr0Mask: UInt64 = 0x6000, cr4Mask: UInt64 = 0x6002
    static let cr0Shadow: UInt64 = 0x6004, cr4Shadow: UInt64 = 0x6006
    static let exitQualification: UInt64 = 0x6400
    static let guestLinearAddress: UInt64 = 0x640a
    static let guestCR0: UInt64 = 0x6800, guestCR3: UInt64 = 0x6802, guestCR4: UInt64 = 0x6804
    @inline(__always) static func guestBase(_ i: Int) -> UInt64 { 0x6806 + 2 * UInt64(i) }
    static let guestGDTRBase: UInt64 = 0x6816, guestIDTRBase: UInt64 = 0x6818
    static let guestDR7: UInt64 = 0x681a
    static let guestRSP: UInt64 = 0x681c, guestRIP: UInt64 = 0x681e, guestRFLAGS: UInt64 = 0x6820
    static let guestPendingDebug: UInt64 = 0x6822
    static let guestSysenterESP: UInt64 = 0x6824, guestSysenterEIP: UInt64 = 0x6826
    static let hostCR0: UInt64 = 0x6c00, hostCR4: UInt64 = 0x6c04
    static let hostFSBase: UInt64 = 0x6c06, hostGSBase: UInt64 = 0x6c08, hostTRBase: UInt64 = 0x6c0a
    static let hostGDTRBase: UInt64 = 0x6c0c, hostIDTRBase: UInt64 = 0x6c0e
    static let hostSysenterESP: UInt64 = 0x6c10, hostSysenterEIP: UInt64 = 0x6c12
    static let hostRIP: UInt64 = 0x6c16

    // MARK: basic exit reasons (bits 0-15 of the exit reason; bit 31 = the VM entry failed)
    static let exitException: UInt64 = 0, exitExternalInterrupt: UInt64 = 1, exitTripleFault: UInt64 = 2
    static let exitINIT: UInt64 = 3, exitSIPI: UInt64 = 4
    static let exitInterruptWindow: UInt64 = 7
    static let exitCPUID: UInt64 = 10, exitGETSEC: UInt64 = 11, exitHLT: UInt64 = 12, exitINVD: UInt64 = 13
    static let exitVMCALL: UInt64 = 18
    /// VMCLEAR, VMLAUNCH, VMPTRLD, VMPTRST, VMREAD, VMRESUME, VMWRITE, VMXOFF, VMXON.
    static let exitVMCLEAR: UInt64 = 19, exitVMXON: UInt64 = 27
    static let exitCRAccess: UInt64 = 28
    static let exitIO: UInt64 = 30, exitRDMSR: UInt64 = 31, exitWRMSR: UInt64 = 32
    static let exitInvalidGuestState: UInt64 = 33, exitMSRLoading: UInt64 = 34, exitMachineCheck: UInt64 = 41
    static let exitEPTViolation: UInt64 = 48, exitEPTMisconfiguration: UInt64 = 49
    static let exitINVEPT: UInt64 = 50, exitINVVPID: UInt64 = 53
    static let exitXSETBV: UInt64 = 55
    static let entryFailed: UInt64 = 1 << 31

    // MARK: values
    /// Interruption information (entry, exit, IDT vectoring): vector 0-7, type 8-10, error code valid 11, valid 31.
    static let interruptionValid: UInt64 = 1 << 31
    static let interruptionErrorCode: UInt64 = 1 << 11
    static let typeNMI: UInt64 = 2, typeHardwareException: UInt64 = 3, typeSoftwareInterrupt: UInt64 = 4
    /// Interruptibility state: blocking by STI (bit 0), by MOV SS (bit 1).
    static let blockingBySTI: UInt64 = 1 << 0, blockingByMovSS: UInt64 = 1 << 1
    /// Pending debug exceptions: BS, a single-step trap the guest's TF asked for.
    static let pendingSingleStep: UInt64 = 1 << 14
    /// Access rights: the SVM attribute byte (type, S, DPL, P) in bits 0-7, AVL/L/DB/G in 12-15, unusable 16.
    static let unusable: UInt64 = 1 << 16
    /// EPT pointer: write-back paging structures (bits 0-2 = 6), a 4-level walk (bits 3-5 = 3).
    static let eptWriteBackFourLevels: UInt64 = 6 | 3 << 3
    /// The PAT's reset value (a guest's WRMSR to PAT is intercepted: its VMM decides).
    static let resetPAT: UInt64 = 0x0007_0406_0007_0406
    static let resetDR7: UInt64 = 0x400
}
