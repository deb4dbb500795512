/// vmcheck's guest: 16-bit real-mode code at guest-physical `entry` (CS = 0, DS = 0), as bytes with the
/// instruction each encodes. It runs each exit vmcheck checks in turn, then two benchmarks between RDTSCs (RDTSC is
/// not intercepted): 1,000 INVDs, the difference reported in eax through an OUT to port 0x81 (on VMX INVD exits and
/// the kernel completes it itself, so this is the exit the kernel handles alone; SVM and the simulator run INVD
/// without an exit), then 1,000 CPUID exits, the difference reported in eax through VMMCALL. On an Intel CPU
/// VMMCALL raises #UD instead: the guest's #UD handler (IVT vector 6) makes the same call with VMCALL, so the guest
/// does not need to know which CPU runs it and the hypercall exit comes from either instruction.
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
    static let invdReport: UInt64 = 0x101e
    static let benchmarkCPUID: UInt64 = 0x1028
    static let hypercall: UInt64 = 0x1032
    /// The HLT after the hypercall (not reached by the benchmark; the hostile part's good state runs to it).
    static let halt: UInt64 = 0x1035
    /// The #UD handler's VMCALL (where the hypercall exit comes from on VMX).
    static let hypercallAfterInvalidOpcode: UInt64 = 0x1036
    /// The stack real-mode events are delivered on.
    static let stackTop: UInt64 = 0x3000

    static let outValue: UInt8 = 0x42
    static let inValue: UInt64 = 0x5a
    static let port: UInt64 = 0x80
    static let reportPort: UInt64 = 0x81

    static let code: [UInt8] = [
        0x0f, 0xa2,             // 1000: cpuid                 -> exit cpuid (length 2)
        0xb0, 0x42,             // 1002: mov al, 0x42
        0xe6, 0x80,             // 1004: out 0x80, al          -> exit io: port 0x80, out, byte, value 0x42
        0xe4, 0x80,             // 1006: in al, 0x80           -> exit io: port 0x80, in, byte (the VMM gives 0x5a)
        0xf4,                   // 1008: hlt                   -> exit hlt (length 1), al = 0x5a
        0xa0, 0x00, 0x80,       // 1009: mov al, [0x8000]      -> nested page fault at 0x8000, read (3 bytes)
        0xbd, 0xe8, 0x03,       // 100c: mov bp, 1000
        0x0f, 0x31,             // 100f: rdtsc
        0x66, 0x89, 0xc7,       // 1011: mov edi, eax
        0x0f, 0x08,             // 1014: invd                  (an exit the kernel completes)
        0x4d,                   // 1016: dec bp
        0x75, 0xfb,             // 1017: jnz 1014
        0x0f, 0x31,             // 1019: rdtsc
        0x66, 0x29, 0xf8,       // 101b: sub eax, edi
        0xe6, 0x81,             // 101e: out 0x81, al          -> exit io: eax = TSC ticks of the INVDs
        0xbd, 0xe8, 0x03,       // 1020: mov bp, 1000
        0x0f, 0x31,             // 1023: rdtsc
        0x66, 0x89, 0xc6,       // 1025: mov esi, eax
        0x0f, 0xa2,             // 1028: cpuid                 -> exit cpuid (the benchmark's 1,000)
        0x4d,                   // 102a: dec bp
        0x75, 0xfb,             // 102b: jnz 1028
        0x0f, 0x31,             // 102d: rdtsc
        0x66, 0x29, 0xf0,       // 102f: sub eax, esi
        0x0f, 0x01, 0xd9,       // 1032: vmmcall               -> exit hypercall (length 3), eax = TSC ticks
        0xf4,                   // 1035: hlt                   (not reached: vmcheck makes the entry fail)
        0x0f, 0x01, 0xc1,       // 1036: vmcall                (#UD handler) -> exit hypercall (length 3)
        0xf4,                   // 1039: hlt                   (not reached)
    ]
}
