/// What the vCPU can take right now, as the VMM reads it from the guest state before entering the guest.
public struct GuestInterruptibility: Equatable {
    /// RFLAGS.IF.
    public var interruptsEnabled: Bool
    /// Blocking by STI or MOV SS: the instruction after them runs before any interrupt or NMI (NMIs too, as
    /// KVM treats it, since VM entry may refuse an NMI under STI blocking).
    public var interruptShadow: Bool
    /// NMIs blocked until the guest's IRET from the last one.
    public var nmiBlocked: Bool
    /// This entry already injects an event (an exception being delivered or re-injected).
    public var eventPending: Bool

    public init(interruptsEnabled: Bool, interruptShadow: Bool = false, nmiBlocked: Bool = false,
                eventPending: Bool = false) {
        self.interruptsEnabled = interruptsEnabled
        self.interruptShadow = interruptShadow
        self.nmiBlocked = nmiBlocked
        self.eventPending = eventPending
    }
}

/// The answer to "what do I inject on this entry?".
public enum InjectionDecision: Equatable {
    /// Inject external interrupt `vector`; its source has been acknowledged (IRR to ISR, or the 8259's INTA).
    case inject(vector: UInt8)
    /// Inject an NMI; it is no longer pending.
    case injectNMI
    /// Something is pending that the guest cannot take yet: ask for an interrupt-window exit and decide again
    /// then (an NMI held back by NMI blocking waits for the same exit: the kernel's ABI has no NMI window).
    case requestWindow
    /// Nothing to deliver.
    case nothing
}
