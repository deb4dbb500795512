/// The one CPUID model every guest sees, on every machine: an x86-64-v2-like baseline (SSE up to SSE4.2, POPCNT,
/// CMPXCHG16B, LAHF in long mode, NX, SYSCALL, long mode) with the hypervisor bit set. Hidden: XSAVE/AVX (the
/// kernel does not switch guest extended state yet), RDRAND, x2APIC, the TSC-deadline timer, LA57, MONITOR, PCID,
/// VMX and SVM (nested virtualization exposes them later), performance counters.
enum CPUIDModel {
    /// CR4 bits a guest may set: those of the features the model shows (VME, PVI, TSD, DE, PSE, PAE, MCE, PGE, PCE,
    /// OSFXSR, OSXMMEXCPT); OSXSAVE, FSGSBASE, PCIDE, SMEP, SMAP, PKE, LA57, UMIP, VMXE, SMXE are hidden.
    static let cr4Allowed: UInt64 = 0x7ff
    static let maxBasicLeaf: UInt32 = 0x7
    static let maxExtendedLeaf: UInt32 = 0x8000_0008

    /// (eax, ebx, ecx, edx) for leaf `leaf`, subleaf `subleaf`.
    static func leaf(_ leaf: UInt32, subleaf: UInt32) -> (UInt32, UInt32, UInt32, UInt32) {
        switch leaf {
        case 0: return (maxBasicLeaf, vendorEBX, vendorECX, vendorEDX)
        case 1:
            // Family 6 model 0x3a stepping 9; CLFLUSH line 8 qwords; one logical CPU.
            let eax: UInt32 = 0x0003_06a9
            let ebx: UInt32 = 8 << 8 | 1 << 16
            // SSE3 0, PCLMULQDQ 1, SSSE3 9, CX16 13, SSE4.1 19, SSE4.2 20, POPCNT 23, hypervisor 31.
            let ecx: UInt32 = 1 << 0 | 1 << 1 | 1 << 9 | 1 << 13 | 1 << 19 | 1 << 20 | 1 << 23 | 1 << 31
            // FPU 0, VME 1, DE 2, PSE 3, TSC 4, MSR 5, PAE 6, MCE 7, CX8 8, APIC 9, SEP 11, MTRR 12, PGE 13,
            // MCA 14, CMOV 15, PAT 16, PSE36 17, CLFSH 19, MMX 23, FXSR 24, SSE 25, SSE2 26.
            let edx: UInt32 = 0x0789_fbff & ~(1 << 10 | 1 << 18 | 1 << 20 | 1 << 21 | 1 << 22)
            return (eax, ebx, ecx, edx)
        case 0x8000_0000: return (maxExtendedLeaf, vendorEBX, vendorECX, vendorEDX)
        // LAHF 0 in ecx; SYSCALL 11, NX 20, LM 29 in edx.
        case 0x8000_0001: return (0, 0, 1 << 0, 1 << 11 | 1 << 20 | 1 << 29)
        // 40 physical, 48 virtual address bits.
        case 0x8000_0008: return (0x3028, 0, 0, 0)
        default: return (0, 0, 0, 0)
        }
    }

    // "HVGuestModel" is not a real vendor on purpose: ebx "HVGu", edx "estM", ecx "odel".
    static let vendorEBX: UInt32 = 0x7547_5648
    static let vendorEDX: UInt32 = 0x4d74_7365
    static let vendorECX: UInt32 = 0x6c65_646f
}
