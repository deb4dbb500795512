import Kernel

/// What happened on a simulated machine, in order, stamped with virtual time: tests read `events`, people read
/// `lines`.
public enum SimTraceEvent: Equatable, Sendable, CustomStringConvertible {
    case enterUser(rip: UInt64, root: UInt64)
    case exit(Exit)
    case idle
    case timerSet(UInt64?)
    case interruptRaised(irq: UInt64)
    case interruptMasked(irq: UInt64, masked: Bool)
    case endOfInterrupt(irq: UInt64)
    /// A device wrote into the LAPIC window (an MSI).
    case deviceMessage(address: UInt64, data: UInt32, outcome: SimMessageInterrupts.Outcome)
    case event(String)
    case ioPort(port: UInt16, value: UInt8, write: Bool)
    case programStarted(name: String, rip: UInt64)
    case programReturned(name: String)
    /// A kernel bug the hardware would have crashed on (e.g. physical access beyond RAM); the machine halts.
    case kernelFault(String)
    case note(String)

    public var description: String {
        switch self {
        case .enterUser(let rip, let root): return "enter user rip=\(simHex(rip)) root=\(simHex(root))"
        case .exit(let exit): return "exit \(exit)"
        case .idle: return "idle"
        case .timerSet(let deadline): return "timer \(deadline.map { String($0) } ?? "off")"
        case .interruptRaised(let irq): return "irq \(irq) raised"
        case .interruptMasked(let irq, let masked): return "irq \(irq) \(masked ? "masked" : "unmasked")"
        case .endOfInterrupt(let irq): return "eoi \(irq)"
        case .deviceMessage(let address, let data, let outcome):
            switch outcome {
            case .raised(let index): return "msi \(simHex(address)) data \(simHex(UInt64(data))): message interrupt \(index)"
            case .ignored(let why): return "msi \(simHex(address)) data \(simHex(UInt64(data))) ignored: \(why)"
            }
        case .event(let label): return "event \(label)"
        case .ioPort(let port, let value, let write):
            return "\(write ? "out" : "in") port \(simHex(UInt64(port))) value \(simHex(UInt64(value)))"
        case .programStarted(let name, let rip): return "program \(name) started at \(simHex(rip))"
        case .programReturned(let name): return "program \(name) returned"
        case .kernelFault(let what): return "KERNEL FAULT: \(what)"
        case .note(let text): return text
        }
    }
}

public struct SimTraceEntry: Equatable, Sendable {
    public var time: UInt64
    public var event: SimTraceEvent
}

public final class SimTrace {
    public private(set) var entries: [SimTraceEntry] = []
    public init() {}

    public func record(_ event: SimTraceEvent, at time: UInt64) { entries.append(SimTraceEntry(time: time, event: event)) }

    public var events: [SimTraceEvent] { entries.map(\.event) }
    public var lines: [String] { entries.map { "\($0.time): \($0.event)" } }
}
