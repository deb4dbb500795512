/// Routes the INTx pins of bus 0's slots to interrupt lines, the way a PC chipset's PIRQ router does: pin P of
/// slot S drives PIRQ[(S + P - 1) mod 4] (the standard swizzle), and each PIRQ is one level-triggered line.
/// Several functions can share a line, so the line is the wired OR of its pins: it drops only when the last
/// asserted pin on it is released.
public final class PCIInterruptRouter {
    /// SeaBIOS's routing of PIRQA...D to ISA IRQs 10, 10, 11, 11: free IRQs on a PC, and what a guest expects
    /// when there is no ACPI _PRT (Linux then uses the interrupt line register).
    public static let legacyPIRQLines = [10, 10, 11, 11]

    private let lines: InterruptLines
    public let pirqLines: [Int]
    /// Asserted state per slot (32) and pin (4).
    private var asserted = [Bool](repeating: false, count: 32 * 4)

    /// `pirqLines` are the lines of PIRQA...D; anything but four entries falls back to the legacy routing.
    public init(lines: InterruptLines, pirqLines: [Int] = PCIInterruptRouter.legacyPIRQLines) {
        self.lines = lines
        self.pirqLines = pirqLines.count == 4 ? pirqLines : Self.legacyPIRQLines
    }

    /// The line pin `pin` (1 = INTA#...4 = INTD#) of `slot` drives, or nil for no pin.
    public func line(slot: Int, pin: UInt8) -> Int? {
        guard slot >= 0, slot < 32, pin >= 1, pin <= 4 else { return nil }
        return pirqLines[(slot + Int(pin) - 1) % 4]
    }

    public func pin(slot: Int, pin: UInt8) -> PCIInterruptPin? {
        guard let line = line(slot: slot, pin: pin) else { return nil }
        return PCIInterruptPin(router: self, slot: slot, pin: pin, line: line)
    }

    func set(slot: Int, pin: UInt8, line: Int, asserted high: Bool) {
        let index = slot * 4 + Int(pin) - 1
        guard asserted[index] != high else { return }
        let before = isHigh(line)
        asserted[index] = high
        let after = isHigh(line)
        if before != after { lines.setLevel(line: line, high: after) }
    }

    /// Whether any pin routed to `line` is asserted.
    public func isHigh(_ line: Int) -> Bool {
        for index in 0..<asserted.count where asserted[index] {
            if pirqLines[(index / 4 + index % 4) % 4] == line { return true }
        }
        return false
    }
}

/// One function's INTx output, as the bus hands it over: the function asserts and releases it, the router
/// turns that into the level of the shared line.
public final class PCIInterruptPin {
    private let router: PCIInterruptRouter
    public let slot: Int
    public let pin: UInt8
    /// The line it drives (what firmware writes into the interrupt line register).
    public let line: Int

    init(router: PCIInterruptRouter, slot: Int, pin: UInt8, line: Int) {
        self.router = router
        self.slot = slot
        self.pin = pin
        self.line = line
    }

    public func setAsserted(_ high: Bool) { router.set(slot: slot, pin: pin, line: line, asserted: high) }
}
