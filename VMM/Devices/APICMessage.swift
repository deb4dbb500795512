/// An interrupt message on the APIC bus: what an IOAPIC redirection entry or the local APIC's ICR sends.
public struct APICMessage: Equatable {
    /// Delivery modes (bits 8-10 of redirection entries, LVT entries and the ICR).
    public enum DeliveryMode: UInt8 {
        case fixed = 0, lowestPriority = 1, smi = 2, reserved3 = 3, nmi = 4, initialize = 5, startUp = 6, extINT = 7
    }

    public var vector: UInt8
    public var deliveryMode: DeliveryMode
    /// Logical destination mode (the destination is matched against LDR/DFR), else physical (the APIC ID).
    public var logicalDestination: Bool
    public var destination: UInt8
    public var levelTriggered: Bool

    public init(vector: UInt8, deliveryMode: DeliveryMode, logicalDestination: Bool, destination: UInt8,
                levelTriggered: Bool) {
        self.vector = vector
        self.deliveryMode = deliveryMode
        self.logicalDestination = logicalDestination
        self.destination = destination
        self.levelTriggered = levelTriggered
    }
}

/// What became of an `APICMessage` sent to a local APIC.
public enum APICDeliveryOutcome: Equatable {
    /// Accepted: in IRR (fixed), pending (NMI, ExtINT).
    case accepted
    /// The destination does not name this APIC.
    case notAddressed
    /// A fixed interrupt with a vector 0-15: refused, the ESR's receive-illegal-vector bit set.
    case illegalVector
    /// Fixed interrupts are not accepted while the APIC is software-disabled (SVR bit 8 clear).
    case softwareDisabled
    /// A delivery mode the single-vCPU model does not deliver (SMI, INIT, start-up, reserved).
    case unsupportedMode
}
