import KernelABI
import UserRuntime

/// The vCPU state of the exit being handled: a copy of its fixed words in the handler's UTCB (`GuestStateLayout`),
/// taken first, because any call the handler makes meanwhile (a log line) reuses the UTCB's message words; and the
/// groups the reply writes back. A handler reads what it needs, changes it, and `finish` writes the changed words
/// and the reply's MTD word into the UTCB just before the reply.
struct ExitState<P: UserPlatform> {
    let utcb: UTCB<P>
    private var words: [UInt64]
    private(set) var writeBack: UInt64 = 0

    init(utcb: UTCB<P>) {
        self.utcb = utcb
        words = (0..<GuestStateLayout.words).map { utcb.word($0) }
    }

    var reason: UInt64 { words[GuestStateLayout.exitReason] }
    var qualification0: UInt64 { words[GuestStateLayout.qualification0] }
    var qualification1: UInt64 { words[GuestStateLayout.qualification1] }
    var guestPhysical: UInt64 { words[GuestStateLayout.guestPhysical] }
    var instructionLength: UInt64? {
        words[GuestStateLayout.qualificationFlags] & GuestStateLayout.lengthKnown != 0
            ? words[GuestStateLayout.instructionLength] : nil
    }

    var rip: UInt64 {
        get { words[GuestStateLayout.rip] }
        set { set(GuestStateLayout.rip, newValue, TransferDescriptor.instructionPointer) }
    }
    var rflags: UInt64 {
        get { words[GuestStateLayout.rflags] }
        set { set(GuestStateLayout.rflags, newValue, TransferDescriptor.stack) }
    }
    var rsp: UInt64 {
        get { words[GuestStateLayout.rsp] }
        set { set(GuestStateLayout.rsp, newValue, TransferDescriptor.stack) }
    }

    /// General register `n` in x86 encoding order (0 rax, 1 rcx, 2 rdx, 3 rbx, 5 rbp, 6 rsi, 7 rdi, 8.. r8..); 4 is rsp.
    func register(_ n: Int) -> UInt64 {
        n == 4 ? rsp : words[GuestStateLayout.firstGeneralRegister + (n < 4 ? n : n - 1)]
    }
    mutating func setRegister(_ n: Int, _ value: UInt64) {
        if n == 4 { rsp = value; return }
        set(GuestStateLayout.firstGeneralRegister + (n < 4 ? n : n - 1), value, TransferDescriptor.generalRegisters)
    }

    func word(_ index: Int) -> UInt64 { words[index] }
    mutating func set(_ index: Int, _ value: UInt64, _ group: UInt64) {
        words[index] = value
        writeBack |= group
    }

    /// Moves rip past the exiting instruction of `length` bytes.
    mutating func skip(_ length: UInt64) { rip = rip &+ length }

    /// Requests the injection of exception `vector` (with `errorCode` when it has one) at the next entry.
    mutating func injectException(_ vector: UInt64, errorCode: UInt64? = nil) {
        let word = 1 << 31 | InjectionType.exception.rawValue << 8 | vector | (errorCode == nil ? 0 : 1 << 11)
        set(GuestStateLayout.injection, word, TransferDescriptor.injection)
        set(GuestStateLayout.injectionErrorCode, errorCode ?? 0, TransferDescriptor.injection)
    }
    /// INT `vector` at the next entry; the return address it pushes is rip.
    mutating func injectSoftwareInterrupt(_ vector: UInt64) {
        set(GuestStateLayout.injection, 1 << 31 | InjectionType.softwareInterrupt.rawValue << 8 | vector,
            TransferDescriptor.injection)
        set(GuestStateLayout.injectionErrorCode, 0, TransferDescriptor.injection)
    }
    mutating func injectInterrupt(_ vector: UInt64) {
        set(GuestStateLayout.injection, 1 << 31 | InjectionType.externalInterrupt.rawValue << 8 | vector,
            TransferDescriptor.injection)
        set(GuestStateLayout.injectionErrorCode, 0, TransferDescriptor.injection)
    }

    /// Writes every word of the groups written back (all of each group goes back, so the words the handler did not
    /// change are the exit's own) and the reply's MTD word into the UTCB.
    func finish() {
        for index in GuestStateLayout.words(ofGroups: writeBack) { utcb.setWord(index, words[index]) }
        utcb.setWord(GuestStateLayout.mtd, writeBack)
    }
}
