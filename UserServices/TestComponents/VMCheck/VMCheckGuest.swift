/// vmcheck's guest: 16-bit real-mode code at guest-physical `entry` (CS = 0, DS = 0), as bytes with the
/// instruction each encodes. It runs each exit vmcheck checks in turn, then the benchmark: 1,000 CPUID exits
/// between two RDTSCs (not intercepted), the difference reported in eax through VMMCALL. On an Intel CPU VMMCALL
/// raises #UD instead: the guest's #UD handler (IVT vector 6) makes the same call with VMCALL, so the guest does
/// not need to know which CPU runs it and the hypercall exit comes from either instruction.
enum VMCheckGuest {
    static let entry: UInt64 = 0x1000
    /// Guest-physical address the guest reads but the VM was not given (its memory is 16 KiB from 0).
    static let unmapped: UInt64 = 0x8000
    static let loops: UInt64 = 1000

    // Addresses of the instructions whose exits vmcheck checks.
    static let cpuidTest: UInt64 = 0x1000
    static let outTest: UInt64 = 0x1004
    static let inTest: UInt64 = 0x1006
    static let hltTest: UInt64 = 0x1008
    static let faultTest: UInt64 = 0x1009
    static let benchmarkCPUID: UInt64 = 0x1014
    static let hypercall: UInt64 = 0x101e
    /// The #UD handler's VMCALL (where the hypercall exit comes from on VMX).
    static let hypercallAfterInvalidOpcode: UInt64 = 0x1022
    /// The real-mode IVT entry for #UD (offset, segment) and the stack the #UD is delivered on.
    static let invalidOpcodeVector: UInt64 = 6 * 4
    static let stackTop: UInt64 = 0x3000

    static let outValue: UInt8 = 0x42
    static let inValue: UInt64 = 0x5a
    static let port: UInt64 = 0x80

    static let code: [UInt8] = [
        0x0f, 0xa2,             // 1000: cpuid                 -> exit cpuid (length 2)
        0xb0, 0x42,             // 1002: mov al, 0x42
        0xe6, 0x80,             // 1004: out 0x80, al          -> exit io: port 0x80, out, byte, value 0x42
        0xe4, 0x80,             // 1006: in al, 0x80           -> exit io: port 0x80, in, byte (the VMM gives 0x5a)
        0xf4,                   // 1008: hlt                   -> exit hlt (length 1), al = 0x5a
        0xa0, 0x00, 0x80,       // 1009: mov al, [0x8000]      -> nested page fault at 0x8000, read (3 bytes)
        0xbd, 0xe8, 0x03,       // 100c: mov bp, 1000
        0x0f, 0x31,             // 100f: rdtsc
        0x66, 0x89, 0xc6,       // 1011: mov esi, eax
        0x0f, 0xa2,             // 1014: cpuid                 -> exit cpuid (the benchmark's 1,000)
        0x4d,                   // 1016: dec bp
        0x75, 0xfb,             // 1017: jnz 1014
        0x0f, 0x31,             // 1019: rdtsc
        0x66, 0x29, 0xf0,       // 101b: sub eax, esi
        0x0f, 0x01, 0xd9,       // 101e: vmmcall               -> exit hypercall (length 3), eax = TSC ticks
        0xf4,                   // 1021: hlt                   (not reached: vmcheck makes the entry fail)
        0x0f, 0x01, 0xc1,       // 1022: vmcall                (#UD handler) -> exit hypercall (length 3)
        0xf4,                   // 1025: hlt                   (not reached)
    ]
}
