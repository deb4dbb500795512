import KernelABI

/// The narrow interface between the kernel's logic and a machine. Two implementations exist: the bare-metal x86-64
/// one (Kernel/X86, C/assembly shims underneath) and the simulator's (Sim/). The kernel is generic over it, so
/// Embedded Swift specialises the whole kernel for one platform and nothing is dispatched at run time.
///
/// The kernel is a loop: pick the current EC, `enterUser` it, handle the `Exit` that comes back. Both platforms run
/// the kernel with interrupts disabled; an interrupt that arrives while user code runs ends `enterUser`.
public protocol Platform: AnyObject {
    // MARK: physical memory (page tables, UTCBs, loading): addresses are physical, accesses are 8-byte aligned.
    func readPhysical(_ address: UInt64) -> UInt64
    func writePhysical(_ address: UInt64, _ value: UInt64)
    func zeroPage(_ address: UInt64)
    func copyPage(from source: UInt64, to destination: UInt64)

    // MARK: address spaces
    /// Makes the page table rooted at `root` (a PML4's physical address) the current one.
    func activateAddressSpace(root: UInt64)
    /// Drops stale translations for one page of the address space rooted at `root` (or all pages when `page` is nil).
    func flushTranslations(root: UInt64, page: UInt64?)
    /// Whether 1 GiB page-table leaves exist (CPUID 0x80000001 EDX bit 26 on x86); 2 MiB leaves always do.
    var supportsGigabytePages: Bool { get }

    // MARK: user execution
    /// Runs user code with `context` until it makes a hypercall, faults or is interrupted; the context is updated.
    /// `ioBitmap` is the set of ports the current PD may use (nil: none).
    func enterUser(_ context: inout UserContext, ioPermissions: IOPermissionBitmap?) -> Exit
    /// Waits with interrupts enabled until one arrives (nothing is runnable).
    func idle() -> Exit

    // MARK: time: one monotonic tick counter, and a one-shot timer
    var now: UInt64 { get }
    /// Raises the timer interrupt at `deadline` (ticks), replacing any earlier request; nil cancels.
    func setTimer(deadline: UInt64?)

    // MARK: interrupts
    func unmaskInterrupt(_ irq: UInt64)
    func maskInterrupt(_ irq: UInt64)
    func endOfInterrupt(_ irq: UInt64)

    // MARK: console
    func consoleWrite(_ byte: UInt8)
}

/// Why `enterUser` or `idle` returned.
public enum Exit: Equatable, Sendable {
    /// `syscall`: number in rax, arguments in rdi, rsi, rdx, r10, r8, r9.
    case hypercall
    /// A CPU exception in user mode: vector, error code, and for page faults the faulting address (CR2).
    case exception(vector: UInt64, errorCode: UInt64, faultAddress: UInt64)
    /// A device interrupt (irq number, not vector).
    case interrupt(irq: UInt64)
    /// The timer deadline passed.
    case timer
}

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

/// Which I/O ports a PD may touch: one bit per port, 65536 bits, as the TSS I/O bitmap wants them (0 = allowed).
/// It counts the allowed ports, so the kernel can tell "no ports" (the common case) on every entry at no cost.
public struct IOPermissionBitmap: Equatable, Sendable {
    /// Bit set = port allowed (the x86 platform inverts it for the TSS).
    public private(set) var allowedWords: [UInt64]
    /// How many bits of `allowedWords` are set.
    public private(set) var allowedCount = 0

    public init() { allowedWords = [UInt64](repeating: 0, count: 1024) }

    public func allows(_ port: UInt64) -> Bool {
        port < 65536 && allowedWords[Int(port >> 6)] & (1 << (port & 63)) != 0
    }
    public mutating func set(_ port: UInt64, allowed: Bool) {
        guard port < 65536, allows(port) != allowed else { return }
        if allowed {
            allowedWords[Int(port >> 6)] |= 1 << (port & 63)
            allowedCount += 1
        } else {
            allowedWords[Int(port >> 6)] &= ~(1 << (port & 63))
            allowedCount -= 1
        }
    }
    /// Whether all `count` ports from `port` are allowed.
    public func allowsAll(_ port: UInt64, count: UInt64) -> Bool {
        var p = port
        let end = port + count
        guard end <= 65536 else { return false }
        while p < end {
            if p & 63 == 0, end - p >= 64 {
                guard allowedWords[Int(p >> 6)] == ~0 else { return false }
                p += 64
            } else {
                guard allows(p) else { return false }
                p += 1
            }
        }
        return true
    }

    /// Sets `count` ports from `port` (an I/O capability's range), a word at a time where it can.
    public mutating func set(_ port: UInt64, count: UInt64, allowed: Bool) {
        var p = port
        let end = min(port + count, 65536)
        while p < end {
            if p & 63 == 0, end - p >= 64 {
                let word = allowedWords[Int(p >> 6)]
                let before = word.nonzeroBitCount
                allowedWords[Int(p >> 6)] = allowed ? ~0 : 0
                allowedCount += (allowed ? 64 : 0) - before
                p += 64
            } else {
                set(p, allowed: allowed)
                p += 1
            }
        }
    }
    public var isEmpty: Bool { allowedCount == 0 }
}
