/// How interrupts travel on this PC: the interrupt lines fan out to the 8259 pair and the IOAPIC, the 8259's INT
/// goes to the local APIC's LINT0 and IOAPIC pin 0 (ExtINT), the IOAPIC's messages to the local APIC, and the
/// local APIC (or the 8259 through it) to the CPU. `nextInjection` is the one question the VMM asks before
/// entering the guest.
///
/// Lines (`InterruptLines`): 0-15 are ISA IRQs, going to the 8259 input of that number and to the IOAPIC pin of
/// the same number, except IRQ 0 (the PIT), which is on pin 2 as on real PCs and as the MADT's interrupt source
/// override says; IRQ 2 is the cascade and has no device. Lines 16-23 are IOAPIC pins 16-23 (PCI INTx).
public final class InterruptRouting: InterruptLines {
    public static let lineCount = 24
    /// The IOAPIC pin the 8259's INT output drives (ExtINT), and the pin of ISA IRQ 0.
    public static let extINTPin = 0
    public static let timerPin = 2

    public let pic: PIC8259
    public let ioapic: IOAPIC
    public let localAPIC: LocalAPIC
    public var errors = DeviceErrorLog()
    /// The level of the 8259's INT as the local APIC and IOAPIC last saw it.
    private var picOutput = false

    /// `ioapic` must deliver to `localAPIC`.
    public init(pic: PIC8259, ioapic: IOAPIC, localAPIC: LocalAPIC) {
        self.pic = pic
        self.ioapic = ioapic
        self.localAPIC = localAPIC
    }

    /// The IOAPIC pin of `line`, nil for a line the PC does not have.
    public static func ioapicPin(ofLine line: Int) -> Int? {
        guard line >= 0 && line < lineCount && line != 2 else { return nil }
        return line == 0 ? timerPin : line
    }

    public func setLevel(line: Int, high: Bool) {
        guard let pin = Self.ioapicPin(ofLine: line) else { errors.record(.noSuchLine(line)); return }
        if line < 16 { pic.setLevel(irq: line, high: high) }
        ioapic.setLevel(pin: pin, high: high)
        synchronize()
    }

    /// Passes what changed since the last look along the wires that have no device call of their own: the
    /// local APIC's EOI broadcasts to the IOAPIC, the 8259's INT to LINT0 and IOAPIC pin 0 (its programming
    /// comes through port writes the VMM gives the 8259 directly).
    public func synchronize() {
        ioapic.synchronize()
        let output = pic.interruptOutput
        guard output != picOutput else { return }
        picOutput = output
        localAPIC.setLINT0(output)
        ioapic.setLevel(pin: Self.extINTPin, high: output)
    }

    /// Whether an ExtINT would reach the CPU now: the 8259 through LINT0 in virtual-wire mode, or an ExtINT
    /// message from the IOAPIC.
    private var extINTReady: Bool { localAPIC.extINTPending || localAPIC.passesExtINT && pic.interruptOutput }

    /// The injection for the coming VM entry, given what the vCPU can take. NMIs first, then ExtINT (the CPU
    /// takes INTR from the 8259 directly), then the local APIC's highest deliverable vector. Injecting
    /// acknowledges the source; when the guest cannot take what is pending, the answer is an interrupt window.
    public func nextInjection(_ cpu: GuestInterruptibility) -> InjectionDecision {
        synchronize()
        let blocked = cpu.interruptShadow || cpu.eventPending
        if localAPIC.nmiPending && !blocked && !cpu.nmiBlocked {
            _ = localAPIC.takeNMI()
            return .injectNMI
        }
        // An NMI held back by NMI blocking does not hold back maskable interrupts (the NMI handler may run
        // with IF set); it waits for a window like they do.
        let external = extINTReady
        let vector = localAPIC.highestDeliverable()
        guard external || vector != nil else { return localAPIC.nmiPending ? .requestWindow : .nothing }
        guard cpu.interruptsEnabled && !blocked else { return .requestWindow }
        if external {
            // The INTA cycle: the 8259 answers even when its request went away (spurious IRQ 7 / 15).
            let picVector = pic.acknowledge()
            localAPIC.clearExtINT()
            synchronize()
            return .inject(vector: picVector)
        }
        guard let vector else { return .nothing }
        localAPIC.acknowledge(vector)
        return .inject(vector: vector)
    }

    /// Whether a halted vCPU wakes now: an NMI it can take, or an interrupt it would take with `interruptsEnabled`.
    public func wakesHaltedCPU(interruptsEnabled: Bool, nmiBlocked: Bool = false) -> Bool {
        synchronize()
        if localAPIC.nmiPending && !nmiBlocked { return true }
        return interruptsEnabled && (extINTReady || localAPIC.highestDeliverable() != nil)
    }
}
