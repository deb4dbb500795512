/// One 8259A as a PC chipset (PIIX/ICH) has it: the state behind one command/data port pair. `PIC8259` wires two
/// of them as master and slave. Inputs latch on a rising edge (or follow the level when the chipset's ELCR marks
/// them level-triggered; ICW1's LTIM bit is ignored, as on those chipsets), priorities rotate as the guest asks,
/// and the INTA cycle moves the winning request into service.
struct PIC8259Chip {
    /// Which initialization word the data port expects next (ICW2-4), or none: it takes OCW1 (the mask).
    enum Initialization { case ready, icw2, icw3, icw4 }

    private(set) var irr: UInt8 = 0
    private(set) var isr: UInt8 = 0
    private(set) var imr: UInt8 = 0
    private(set) var elcr: UInt8 = 0
    private(set) var inputs: UInt8 = 0
    private(set) var vectorBase: UInt8 = 0
    /// ICW3: on the master, the inputs with a slave; on the slave, its cascade identity.
    private(set) var cascade: UInt8 = 0
    private(set) var singleMode = false
    private(set) var autoEOI = false
    private(set) var specialFullyNested = false
    private(set) var specialMask = false
    private(set) var initialization = Initialization.ready
    /// The input with the lowest priority; the one after it (mod 8) has the highest. 7 after initialization.
    private(set) var lowestPriority: UInt8 = 7
    private var rotateOnAutoEOI = false
    private var readsISR = false
    private var pollNext = false
    private var expectsICW4 = false
    /// ELCR bits the chipset lets software set (IRQ 0, 1, 2, 8 and 13 are always edge-triggered).
    let elcrWritable: UInt8

    init(elcrWritable: UInt8) { self.elcrWritable = elcrWritable }

    // MARK: inputs

    /// Sets input `line` (0-7) to `high`: a rising edge latches an edge-triggered request, which stays latched
    /// until the INTA cycle (a pulse counts); a level-triggered request is there exactly while the input is high.
    mutating func setInput(_ line: Int, high: Bool) {
        let bit = UInt8(1) << UInt8(line & 7)
        let wasHigh = inputs & bit != 0
        if high { inputs |= bit } else { inputs &= ~bit }
        if elcr & bit != 0 {
            if high { irr |= bit } else { irr &= ~bit }
        } else if high && !wasHigh {
            irr |= bit
        }
    }

    mutating func setELCR(_ value: UInt8) {
        elcr = value & elcrWritable
        irr = irr & ~elcr | inputs & elcr
    }

    // MARK: priority resolution

    private func priority(_ line: UInt8) -> UInt8 { (line &- lowestPriority &- 1) & 7 }

    /// The input with the best priority among `bits`.
    private func best(_ bits: UInt8) -> UInt8? {
        guard bits != 0 else { return nil }
        for step in UInt8(1)...8 {
            let line = (lowestPriority &+ step) & 7
            if bits & (1 << line) != 0 { return line }
        }
        return nil
    }

    /// The request that the INT output signals now: the best unmasked request that outranks everything in
    /// service. In special mask mode an in-service input blocks only itself; in special fully nested mode the
    /// master does not count its cascade inputs as in service, so a slave's higher request gets through.
    func pendingRequest() -> UInt8? {
        if specialMask { return best(irr & ~imr & ~isr) }
        guard let request = best(irr & ~imr) else { return nil }
        let blocking = specialFullyNested ? isr & ~cascade : isr
        guard let inService = best(blocking) else { return request }
        return priority(request) < priority(inService) ? request : nil
    }

    /// The INTA cycle for `line` (a `pendingRequest`): the request goes into service (or, in auto-EOI mode, is
    /// done at once, rotating if asked).
    mutating func acknowledge(_ line: UInt8) {
        let bit = UInt8(1) << (line & 7)
        if elcr & bit == 0 { irr &= ~bit }
        if autoEOI {
            if rotateOnAutoEOI { lowestPriority = line & 7 }
        } else {
            isr |= bit
        }
    }

    // MARK: ports

    /// A write to the command port (0x20 / 0xa0): ICW1, OCW2 or OCW3. Returns an error to record, if any.
    mutating func writeCommand(_ value: UInt8) -> DeviceProgrammingError? {
        if value & 0x10 != 0 { return initialize(value) }
        if value & 0x08 != 0 {
            // OCW3: poll, read register select, special mask mode.
            if value & 0x04 != 0 { pollNext = true }
            if value & 0x02 != 0 { readsISR = value & 0x01 != 0 }
            if value & 0x40 != 0 { specialMask = value & 0x20 != 0 }
            return nil
        }
        // OCW2: EOIs and rotation.
        let level = value & 7
        switch value >> 5 {
        case 0b001: if let line = best(isr) { isr &= ~(1 << line) }
        case 0b101: if let line = best(isr) { isr &= ~(1 << line); lowestPriority = line }
        case 0b011: isr &= ~(1 << level)
        case 0b111: isr &= ~(1 << level); lowestPriority = level
        case 0b110: lowestPriority = level
        case 0b100: rotateOnAutoEOI = true
        case 0b000: rotateOnAutoEOI = false
        default: break  // 0b010: no operation
        }
        return nil
    }

    /// ICW1: starts the initialization sequence. Clears the mask, the in-service bits and the edge latches (a
    /// request must rise again after initialization), priorities back to IR0 highest, reads back to IRR.
    private mutating func initialize(_ value: UInt8) -> DeviceProgrammingError? {
        expectsICW4 = value & 0x01 != 0
        singleMode = value & 0x02 != 0
        imr = 0
        isr = 0
        irr = inputs & elcr
        lowestPriority = 7
        specialMask = false
        readsISR = false
        pollNext = false
        autoEOI = false
        rotateOnAutoEOI = false
        specialFullyNested = false
        initialization = .icw2
        // LTIM is not wired on PC chipsets (the ELCR decides), and without ICW4 the chip would be in 8080 mode.
        return value & 0x08 != 0 || !expectsICW4 ? .unsupportedCommand(.pic, value: value) : nil
    }

    /// A write to the data port (0x21 / 0xa1): the next ICW, or OCW1 (the interrupt mask).
    mutating func writeData(_ value: UInt8) -> DeviceProgrammingError? {
        switch initialization {
        case .icw2:
            vectorBase = value & 0xf8
            initialization = singleMode ? (expectsICW4 ? .icw4 : .ready) : .icw3
        case .icw3:
            cascade = value
            initialization = expectsICW4 ? .icw4 : .ready
        case .icw4:
            autoEOI = value & 0x02 != 0
            specialFullyNested = value & 0x10 != 0
            initialization = .ready
            if value & 0x01 == 0 { return .unsupportedCommand(.pic, value: value) }  // 8080 mode
        case .ready:
            imr = value
        }
        return nil
    }

    /// A read of the command port: the poll word after an OCW3 poll command (an INTA cycle: bit 7 says whether
    /// there was a request, bits 0-2 which), else IRR or ISR as OCW3 selected.
    mutating func readCommand() -> UInt8 {
        if pollNext {
            pollNext = false
            guard let line = pendingRequest() else { return 0 }
            acknowledge(line)
            return 0x80 | line
        }
        return readsISR ? isr : irr
    }

    func readData() -> UInt8 { imr }
}
