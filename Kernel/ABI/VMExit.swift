/// The vendor-neutral exit numbering of vCPUs. A vCPU's exit `n` is a call to the portal at its event base + `n` in
/// the object space of the PD that created it (its VMM). SVM exit codes and VMX basic exit reasons both map onto
/// these (the platform does the mapping); exits the kernel handles itself (external interrupts, NMI, INIT) are
/// never delivered.
public enum VMExit {
    /// 0 ..< 32: the guest raised exception `vector`, intercepted through the exception bitmap (`Controls`).
    public static let exceptionCount: UInt64 = 32
    public static let cpuid: UInt64 = 32
    public static let hlt: UInt64 = 33
    /// Port I/O to a port the VM PD holds no I/O capability for: qualification 0 is `IOQualification`.
    public static let io: UInt64 = 34
    /// RDMSR / WRMSR of an MSR the kernel does not pass through: qualification 0 is the MSR number.
    public static let rdmsr: UInt64 = 35
    public static let wrmsr: UInt64 = 36
    /// A control-register access the controls intercept: qualification 0 = register | write << 4.
    public static let crAccess: UInt64 = 37
    public static let invlpg: UInt64 = 38
    public static let rdtsc: UInt64 = 39
    /// VMMCALL (SVM) or VMCALL (VMX): the guest's hypercall to its VMM.
    public static let hypercall: UInt64 = 40
    /// Any other SVM or VMX instruction (VMRUN, VMLOAD, VMSAVE, STGI, CLGI, SKINIT, INVLPGA, VMXON, ...): never
    /// executed by the hardware for the guest; the VMM emulates or injects #UD.
    public static let virtualizationInstruction: UInt64 = 41
    /// A guest-physical access the VM PD's memory does not allow: guest-physical address, access in qualification 0.
    public static let nestedPageFault: UInt64 = 42
    /// Triple fault: the guest is dead until its VMM resets its state.
    public static let shutdown: UInt64 = 43
    /// The guest can take an interrupt now (requested through `Controls.interruptWindow`).
    public static let interruptWindow: UInt64 = 44
    /// The state the VMM gave cannot be entered: the hardware (or the kernel's checks) refused it.
    public static let failedEntry: UInt64 = 45
    public static let xsetbv: UInt64 = 46
    /// A vCPU's first exit, before it ever runs: its VMM's reply gives the initial state.
    public static let startup: UInt64 = 62
    /// After `ctrl_ec(recall)`: the VMM may inject an interrupt.
    public static let recall: UInt64 = 63
    public static let count: UInt64 = 64
}

/// Qualification 0 of an I/O exit.
public enum IOQualification {
    /// bits 0-15 port, bits 16-18 size in bytes (1, 2, 4), bit 19 in (1) / out (0), bit 20 string, bit 21 rep.
    public static func make(port: UInt64, size: UInt64, isIn: Bool, isString: Bool, isRep: Bool) -> UInt64 {
        port & 0xffff | (size & 7) << 16 | (isIn ? 1 << 19 : 0) | (isString ? 1 << 20 : 0) | (isRep ? 1 << 21 : 0)
    }
    public static func port(_ q: UInt64) -> UInt64 { q & 0xffff }
    public static func size(_ q: UInt64) -> UInt64 { (q >> 16) & 7 }
    public static func isIn(_ q: UInt64) -> Bool { q & (1 << 19) != 0 }
    public static func isString(_ q: UInt64) -> Bool { q & (1 << 20) != 0 }
    public static func isRep(_ q: UInt64) -> Bool { q & (1 << 21) != 0 }
}

/// Qualification 0 of a nested page fault: the access that failed.
public enum NestedFaultQualification {
    public static let read: UInt64 = 1 << 0
    public static let write: UInt64 = 1 << 1
    public static let execute: UInt64 = 1 << 2
    /// Something was mapped there (a permission violation) rather than nothing.
    public static let present: UInt64 = 1 << 3
}
