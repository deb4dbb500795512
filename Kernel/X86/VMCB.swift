/// One vCPU's VMCB (AMD APM vol. 2, appendix B): byte offsets of the fields the SVM backend uses, the intercept
/// bits it sets, and typed access to the page. The VMCB is a pool frame of the vCPU (`VirtualCPU.frames[0]`),
/// identity mapped, so its physical address is its pointer.
struct VMCB {
    let raw: UnsafeMutableRawPointer

    init(_ physical: UInt64) { raw = UnsafeMutableRawPointer(bitPattern: UInt(physical))! }

    @inline(__always) func u64(_ offset: Int) -> UInt64 { raw.load(fromByteOffset: offset, as: UInt64.self) }
    @inline(__always) func u32(_ offset: Int) -> UInt32 { raw.load(fromByteOffset: offset, as: UInt32.self) }
    @inline(__always) func u16(_ offset: Int) -> UInt16 { raw.load(fromByteOffset: offset, as: UInt16.self) }
    @inline(__always) func set(_ offset: Int, _ value: UInt64) { raw.storeBytes(of: value, toByteOffset: offset, as: UInt64.self) }
    @inline(__always) func set(_ offset: Int, _ value: UInt32) { raw.storeBytes(of: value, toByteOffset: offset, as: UInt32.self) }
    @inline(__always) func set(_ offset: Int, _ value: UInt16) { raw.storeBytes(of: value, toByteOffset: offset, as: UInt16.self) }
    @inline(__always) func set(_ offset: Int, _ value: UInt8) { raw.storeBytes(of: value, toByteOffset: offset, as: UInt8.self) }

    // MARK: control area
    /// CR reads (bits 0-15) and writes (16-31).
    static let interceptCR = 0x000
    static let interceptExceptions = 0x008
    static let interceptMisc1 = 0x00c
    static let interceptMisc2 = 0x010
    static let iopmBase = 0x040
    static let msrpmBase = 0x048
    static let tscOffset = 0x050
    static let asid = 0x058
    static let tlbControl = 0x05c
    /// V_TPR 0-7, V_IRQ 8, V_INTR_PRIO 16-19, V_IGN_TPR 20, V_INTR_MASKING 24, V_INTR_VECTOR 32-39.
    static let virtualInterrupt = 0x060
    /// Bit 0: the guest is in an interrupt shadow.
    static let interruptShadow = 0x068
    static let exitCode = 0x070
    static let exitInfo1 = 0x078
    static let exitInfo2 = 0x080
    static let exitInterruptInfo = 0x088
    /// Bit 0: nested paging.
    static let nestedPagingEnable = 0x090
    static let eventInjection = 0x0a8
    static let nestedCR3 = 0x0b0
    static let cleanBits = 0x0c0

    // MARK: state save area: a segment is selector u16, attributes u16, limit u32, base u64
    /// Segment `i` of GuestState's order (es, cs, ss, ds, fs, gs, ldtr, tr) in the VMCB, which has gdtr before ldtr
    /// and idtr before tr (0x400 ... 0x450, 0x470, 0x490).
    @inline(__always) static func segment(_ i: Int) -> Int { i < 6 ? 0x400 + 16 * i : i == 6 ? 0x470 : 0x490 }
    static let gdtr = 0x460
    static let idtr = 0x480
    static let cpl = 0x4cb
    static let efer = 0x4d0
    static let cr4 = 0x548
    static let cr3 = 0x550
    static let cr0 = 0x558
    static let dr7 = 0x560
    static let dr6 = 0x568
    static let rflags = 0x570
    static let rip = 0x578
    static let rsp = 0x5d8
    static let rax = 0x5f8
    static let cr2 = 0x640
    static let guestPAT = 0x668

    // MARK: intercepts the kernel always sets (ABI.md "Virtual machines": what a VMM cannot change)
    static let interceptINTR: UInt32 = 1 << 0, interceptNMI: UInt32 = 1 << 1, interceptINIT: UInt32 = 1 << 3
    static let interceptVINTR: UInt32 = 1 << 4, interceptCPUID: UInt32 = 1 << 18, interceptHLT: UInt32 = 1 << 24
    static let interceptINVLPGA: UInt32 = 1 << 26, interceptIOIO: UInt32 = 1 << 27, interceptMSR: UInt32 = 1 << 28
    static let interceptShutdown: UInt32 = 1 << 31
    /// INVD: run natively it would drop the host's dirty cache lines too; the kernel completes it as a no-op, and
    /// WBINVD with it (misc2), which would let a guest stall the host for milliseconds (KVM completes both alike).
    /// Both intercepts are needed to catch INVD on QEMU before 8.1, whose TCG checks each instruction against the
    /// other's intercept bit and exits with the other's code.
    static let interceptINVD: UInt32 = 1 << 22
    static let misc1: UInt32 = interceptINTR | interceptNMI | interceptINIT | interceptCPUID | interceptHLT
        | interceptINVD | interceptINVLPGA | interceptIOIO | interceptMSR | interceptShutdown
    /// VMRUN, VMMCALL, VMLOAD, VMSAVE, STGI, CLGI, SKINIT (bits 0-6), WBINVD (9: see interceptINVD) and XSETBV
    /// (13: XCR0 is not switched).
    static let misc2: UInt32 = 0x7f | 1 << 9 | 1 << 13
    /// CR4 writes: the VMM decodes them, so a guest turns on only what its CPUID model shows (ABI.md).
    static let crWrites: UInt32 = 1 << (16 + 4)
    /// #DB and #AC: a guest must not wedge the CPU with them (ABI.md).
    static let alwaysInterceptedExceptions: UInt32 = 1 << 1 | 1 << 17

    static let vIRQ: UInt64 = 1 << 8, vIgnoreTPR: UInt64 = 1 << 20, vInterruptMasking: UInt64 = 1 << 24
    static let vPriorityHighest: UInt64 = 0xf << 16
    static let tlbFlushAll: UInt8 = 1
    static let eferSVME: UInt64 = 1 << 12
    /// The PAT's reset value (a guest's WRMSR to PAT is intercepted: its VMM decides).
    static let resetPAT: UInt64 = 0x0007_0406_0007_0406

    // MARK: exit codes
    /// CR n read 0x00 + n, write 0x10 + n (no decode assists: neither the value nor the register is given).
    static let exitCRWrite: UInt64 = 0x10
    static let exitException: UInt64 = 0x40
    static let exitINTR: UInt64 = 0x60, exitNMI: UInt64 = 0x61, exitSMI: UInt64 = 0x62, exitINIT: UInt64 = 0x63
    static let exitVINTR: UInt64 = 0x64
    static let exitCPUID: UInt64 = 0x72, exitINVD: UInt64 = 0x76, exitHLT: UInt64 = 0x78, exitINVLPGA: UInt64 = 0x7a, exitIOIO: UInt64 = 0x7b
    static let exitMSR: UInt64 = 0x7c, exitShutdown: UInt64 = 0x7f
    static let exitVMRUN: UInt64 = 0x80, exitVMMCALL: UInt64 = 0x81, exitSKINIT: UInt64 = 0x86, exitWBINVD: UInt64 = 0x89
    static let exitXSETBV: UInt64 = 0x8d
    static let exitNPF: UInt64 = 0x400
    /// VMRUN refused the VMCB (a consistency check failed): nothing ran.
    static let exitInvalid: UInt64 = ~0
}
