import KernelABI

/// The simulated machine's message-signalled interrupts: the local APIC's window at 0xFEE0_0000 as a device's write
/// reaches it (MSI and MSI-X are such writes). A message is decoded as a real LAPIC without interrupt remapping
/// does: the destination APIC id from address bits 12-19 (this machine has one CPU, id 0), the delivery mode from
/// data bits 8-10 (only fixed, 0, raises a vector), the vector from data bits 0-7. Vectors `vectorBase ..<
/// vectorBase + count` are the kernel's message interrupts; like the LAPIC's request register, each is one pending
/// bit, so two messages for one vector before the CPU takes it are one interrupt.
public final class SimMessageInterrupts {
    /// The vector of message interrupt 0 (as on the x86 kernel: 80).
    public static let vectorBase: UInt64 = 80
    public static let apicID: UInt64 = 0
    public let count: UInt64
    private var pending: [Bool]
    /// How many are pending: `deliverable` is asked before every simulated user access, so none pending must be cheap.
    private var pendingCount = 0

    /// What became of a message.
    public enum Outcome: Equatable, Sendable {
        /// Message interrupt `index` is pending.
        case raised(index: UInt64)
        /// Nothing happened; why.
        case ignored(String)
    }

    public init(count: UInt64 = RootSelectors.messageCount) {
        self.count = count
        pending = Array(repeating: false, count: Int(count))
    }

    /// The message that raises message interrupt `index`, nil beyond this machine's vectors.
    public func message(_ index: UInt64) -> MessageInterrupt? {
        index < count ? .x86(vector: Self.vectorBase + index, apicID: Self.apicID) : nil
    }

    /// A device wrote `data` (32 bits) at `address` in the window.
    public func write(address: UInt64, data: UInt32) -> Outcome {
        guard MessageInterrupt.x86Window.contains(address) else {
            return .ignored("address \(simHex(address)) is outside the interrupt window")
        }
        let destination = (address >> 12) & 0xff
        guard destination == Self.apicID else { return .ignored("no CPU has APIC id \(destination)") }
        let mode = (UInt64(data) >> 8) & 7
        guard mode == 0 else { return .ignored("delivery mode \(mode) is not fixed") }
        let vector = UInt64(data) & 0xff
        guard vector >= Self.vectorBase, vector < Self.vectorBase + count else {
            return .ignored("vector \(vector) is no message interrupt")
        }
        if !pending[Int(vector - Self.vectorBase)] { pendingCount += 1 }
        pending[Int(vector - Self.vectorBase)] = true
        return .raised(index: vector - Self.vectorBase)
    }

    public func isPending(_ index: UInt64) -> Bool { index < count && pending[Int(index)] }

    /// The lowest pending message interrupt, without taking it.
    public var deliverable: UInt64? {
        guard pendingCount > 0 else { return nil }
        return (0..<count).first { pending[Int($0)] }
    }

    /// Takes the lowest pending message interrupt (the CPU accepted it: nothing to acknowledge later, it is an edge).
    public func acknowledge() -> UInt64? {
        guard let index = deliverable else { return nil }
        pending[Int(index)] = false
        pendingCount -= 1
        return index
    }
}
