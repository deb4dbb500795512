/// What makes the guest exit to the hypervisor, set per entry (SVM's intercept vectors, VMX's execution controls).
/// Always intercepted, whatever is set here: every SVM/VMX instruction, shutdown, and the end of the slice.
public struct SimGuestControls {
    public var cpuid = true
    public var hlt = true
    /// Intercepts an access to `port` (every port of a multi-byte access is asked). Not intercepted: the access goes
    /// to `ioPassthrough`.
    public var interceptsPort: (UInt16) -> Bool = { _ in true }
    /// Intercepts RDMSR (`write` false) or WRMSR of an MSR. Not intercepted: the engine performs it on the guest's
    /// own MSR (a short list, `SimGuestMSR.passable`); any other MSR raises #GP in the guest.
    public var interceptsMSR: (_ msr: UInt32, _ write: Bool) -> Bool = { _, _ in true }
    /// Bit n: intercept reads (MOV from CRn, SMSW for CR0) / writes (MOV to CRn, CLTS, LMSW for CR0) of CRn.
    public var crReads: UInt16 = 0
    public var crWrites: UInt16 = 0
    /// Bit n: exception vector n exits instead of being delivered to the guest.
    public var exceptionBitmap: UInt32 = 0
    public var invlpg = false
    public var rdtsc = false
    /// Exit as soon as the guest can take an external interrupt (RFLAGS.IF = 1, no interrupt shadow).
    public var interruptWindow = false
    /// Port accesses that are not intercepted: (port, size, value written or nil for a read) -> value read.
    public var ioPassthrough: (_ port: UInt16, _ size: Int, _ written: UInt32?) -> UInt32 = { _, size, _ in
        size == 4 ? 0xffff_ffff : size == 2 ? 0xffff : 0xff
    }

    public init() {}
}

/// The guest MSRs the engine keeps and lets a guest use when the hypervisor does not intercept them.
public enum SimGuestMSR {
    public static let tsc: UInt32 = 0x10
    public static let sysenterCS: UInt32 = 0x174, sysenterESP: UInt32 = 0x175, sysenterEIP: UInt32 = 0x176
    public static let pat: UInt32 = 0x277
    public static let efer: UInt32 = 0xc000_0080
    public static let star: UInt32 = 0xc000_0081, lstar: UInt32 = 0xc000_0082, cstar: UInt32 = 0xc000_0083
    public static let sfmask: UInt32 = 0xc000_0084
    public static let fsBase: UInt32 = 0xc000_0100, gsBase: UInt32 = 0xc000_0101, kernelGSBase: UInt32 = 0xc000_0102
    public static let tscAux: UInt32 = 0xc000_0103

    public static let passable: Set<UInt32> = [tsc, sysenterCS, sysenterESP, sysenterEIP, pat, efer, star, lstar, cstar,
                                               sfmask, fsBase, gsBase, kernelGSBase, tscAux]
}
