/// The user-visible register state of an EC, saved on every exit.
public struct UserContext: Equatable, Sendable {
    public var rax: UInt64 = 0, rbx: UInt64 = 0, rcx: UInt64 = 0, rdx: UInt64 = 0
    public var rsi: UInt64 = 0, rdi: UInt64 = 0, rbp: UInt64 = 0, rsp: UInt64 = 0
    public var r8: UInt64 = 0, r9: UInt64 = 0, r10: UInt64 = 0, r11: UInt64 = 0
    public var r12: UInt64 = 0, r13: UInt64 = 0, r14: UInt64 = 0, r15: UInt64 = 0
    public var rip: UInt64 = 0
    /// Interrupts enabled (IF) is forced on when entering user mode.
    public var rflags: UInt64 = UserContext.initialFlags
    /// The page table root (physical) of the EC's PD.
    public var addressSpaceRoot: UInt64 = 0
    /// The EC's x87/SSE registers (x86: the 64-word FXSAVE image), saved and restored by the platform around user
    /// execution so no EC sees another's vector registers; empty means "initial state". Opaque to the kernel.
    public var floatingPoint: [UInt64] = []

    /// IF set (bit 1 is always one).
    public static let initialFlags: UInt64 = 0x202

    /// Whether the first 18 words of a UserContext are rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp, r8-r15, rip, rflags in
    /// that order: the x86 entry stubs load and store them in place (Kernel/X86/traps.S), so entering and leaving
    /// user mode copies no registers. Swift lays a struct's stored properties out in declaration order; the x86
    /// platform checks this at boot and the tests check it on the host.
    public static var hasStubLayout: Bool {
        var probe = UserContext()
        probe.rax = 1; probe.rbx = 2; probe.rcx = 3; probe.rdx = 4; probe.rsi = 5; probe.rdi = 6; probe.rbp = 7
        probe.rsp = 8; probe.r8 = 9; probe.r9 = 10; probe.r10 = 11; probe.r11 = 12; probe.r12 = 13; probe.r13 = 14
        probe.r14 = 15; probe.r15 = 16; probe.rip = 17; probe.rflags = 18
        return withUnsafeBytes(of: &probe) { words in
            (0..<18).allSatisfy { words.load(fromByteOffset: $0 * 8, as: UInt64.self) == UInt64($0 + 1) }
        }
    }

    public init() {}

    /// Fresh general registers for a start at `entry` on `stackPointer` (a portal handler taking a call), set in
    /// place. The address space stays, and so does the x87/SSE image: it is the EC's own (as in NOVA), never held
    /// another EC's registers, and keeping it spares the platform a fresh image per call.
    mutating func restart(at entry: UInt64, stackPointer: UInt64) {
        rax = 0; rbx = 0; rcx = 0; rdx = 0; rsi = 0; rdi = 0; rbp = 0
        r8 = 0; r9 = 0; r10 = 0; r11 = 0; r12 = 0; r13 = 0; r14 = 0; r15 = 0
        rsp = stackPointer
        rip = entry
        rflags = UserContext.initialFlags
    }
}
