import Kernel

/// A simple interrupt controller: numbered lines that devices raise (edge, latched until delivered) or hold
/// (level, pending while asserted), a mask per line, and one in-service bit per line cleared by EOI, so a line is
/// not delivered again before the kernel acknowledged it. Lines start masked, as after a PIC/IOAPIC reset.
/// Each line has a trigger mode, as the real machine's ACPI MADT gives it: ISA lines 0..15 edge and PCI lines
/// 16.. level unless a test sets otherwise (`setTrigger`), or no line at all (nil: an override took its pin).
public final class SimInterruptController {
    public let lineCount: UInt64
    private var triggers: [InterruptTrigger?]
    private var masked: [Bool]
    private var latched: [Bool]
    private var asserted: [Bool]
    private var inService: [Bool]
    /// How many lines are latched or asserted: `deliverable` is asked after every simulated user operation, and
    /// with nothing pending (almost always) it answers without scanning the lines.
    private var pendingLines = 0

    public init(lineCount: UInt64) {
        self.lineCount = lineCount
        masked = Array(repeating: true, count: Int(lineCount))
        latched = Array(repeating: false, count: Int(lineCount))
        asserted = Array(repeating: false, count: Int(lineCount))
        inService = Array(repeating: false, count: Int(lineCount))
        triggers = (0..<lineCount).map { $0 < 16 ? .edge : .level }
    }

    /// How `irq` signals; nil beyond the controller's lines or where a test removed the line.
    public func trigger(_ irq: UInt64) -> InterruptTrigger? { valid(irq) ? triggers[Int(irq)] : nil }

    public func setTrigger(_ irq: UInt64, _ trigger: InterruptTrigger?) {
        precondition(valid(irq), "irq \(irq) beyond the controller's \(lineCount) lines")
        triggers[Int(irq)] = trigger
    }

    private func valid(_ irq: UInt64) -> Bool { irq < lineCount }

    /// An edge: the line stays pending until delivered once.
    public func pulse(_ irq: UInt64) {
        precondition(valid(irq), "irq \(irq) beyond the controller's \(lineCount) lines")
        let before = isPending(irq)
        latched[Int(irq)] = true
        if !before { pendingLines += 1 }
    }

    /// A level: pending while asserted.
    public func setLevel(_ irq: UInt64, asserted value: Bool) {
        precondition(valid(irq), "irq \(irq) beyond the controller's \(lineCount) lines")
        let before = isPending(irq)
        asserted[Int(irq)] = value
        pendingLines += (isPending(irq) ? 1 : 0) - (before ? 1 : 0)
    }

    public func mask(_ irq: UInt64) { if valid(irq) { masked[Int(irq)] = true } }
    public func unmask(_ irq: UInt64) { if valid(irq) { masked[Int(irq)] = false } }
    public func isMasked(_ irq: UInt64) -> Bool { !valid(irq) || masked[Int(irq)] }
    public func isPending(_ irq: UInt64) -> Bool { valid(irq) && (latched[Int(irq)] || asserted[Int(irq)]) }
    public func isInService(_ irq: UInt64) -> Bool { valid(irq) && inService[Int(irq)] }

    /// Acknowledges the interrupt being handled on `irq`.
    public func endOfInterrupt(_ irq: UInt64) { if valid(irq) { inService[Int(irq)] = false } }

    /// The lowest-numbered deliverable line, without delivering it.
    public var deliverable: UInt64? {
        guard pendingLines > 0 else { return nil }
        return (0..<lineCount).first { isPending($0) && !masked[Int($0)] && !inService[Int($0)] }
    }

    /// Delivers the lowest-numbered deliverable line: clears its edge latch and marks it in service.
    public func acknowledge() -> UInt64? {
        guard let irq = deliverable else { return nil }
        latched[Int(irq)] = false
        if !asserted[Int(irq)] { pendingLines -= 1 }
        inService[Int(irq)] = true
        return irq
    }
}
