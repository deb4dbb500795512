/// The user thread control block: one page per EC, mapped in its PD, through which messages travel.
///   word 0: bits 0-15 untyped word count, bits 16-31 typed item count
///   word 1: object receive window (a CRD: where delegated object capabilities may land)
///   word 2: memory receive window (a CRD: where delegated pages may land)
///   word 3: portal id of the current call (written by the kernel), or event number for exceptions
///   words 4..: untyped words, then typed items (two words each: CRD, destination hotspot)
/// Exception and fault messages carry the faulting state in the untyped words, in `FaultMessage` order.
public enum UTCBLayout {
    public static let headerWords = 4
    public static let totalWords = 512
    public static let maxDataWords = totalWords - headerWords

    public static let countsWord = 0
    public static let objectWindowWord = 1
    public static let memoryWindowWord = 2
    public static let portalIDWord = 3
    public static let firstDataWord = 4

    public static func counts(untyped: Int, typed: Int) -> UInt64 { UInt64(untyped) | UInt64(typed) << 16 }
    public static func untypedCount(_ word: UInt64) -> Int { Int(word & 0xffff) }
    public static func typedCount(_ word: UInt64) -> Int { Int((word >> 16) & 0xffff) }
}

/// The untyped words of an exception/fault message (event portal calls), in order.
public enum FaultMessage {
    public static let vector = 0
    public static let errorCode = 1
    public static let faultAddress = 2
    public static let instructionPointer = 3
    public static let stackPointer = 4
    public static let flags = 5
    public static let words = 6
    /// In a reply to an event (at least `words` untyped words set rip, rsp and rflags), a seventh word sets rdi:
    /// how a creator hands a new EC its start argument through the startup event.
    public static let resumeArgument = 6
}

/// Flags for `create_ec`'s last argument: bit 0 global (schedulable with its own SC) vs local (portal handler);
/// bits 8-63 the event base selector.
public enum ECFlags {
    public static let global: UInt64 = 1
    /// A vCPU of a VM PD (with `global`): runs guest code, no UTCB; its exits go to its creator's portals.
    public static let vcpu: UInt64 = 1 << 1
    public static func make(global: Bool, eventBase: UInt64) -> UInt64 { (global ? 1 : 0) | eventBase << 8 }
}

/// Flags of `create_pd`'s fourth argument.
public enum PDFlags {
    /// A VM PD: its memory space is guest-physical (keys from page 0), built as nested page tables.
    public static let vm: UInt64 = 1
}

/// Operations of `ctrl_sm`.
public enum SemaphoreOp: UInt64, Sendable { case up = 0, down = 1, downTimed = 2 }

/// Flags of `assign_int`. Assigning a message-signalled interrupt (`RootSelectors.isMessage`) returns the message
/// its device must write: rdi = MSI address, rsi = MSI data (`MessageInterrupt`).
public enum AssignFlags {
    /// Release the line instead of assigning it: masked, its pending interrupts dropped, waiters `aborted`, and it
    /// can be assigned again (a stopped or restarted driver's lines).
    public static let release: UInt64 = 1
}

/// Flags of `revoke`.
public enum RevokeFlags {
    /// Also remove the caller's own capabilities in the range, not only what was derived from them.
    public static let includeSelf: UInt64 = 1
}
