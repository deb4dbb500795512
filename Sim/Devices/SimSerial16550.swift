/// A 16550 UART model at `base` (COM1: 0x3f8, irq 4): transmitted bytes collect in `output`; bytes a test
/// injects with `receive` are read from RBR. Registers: RBR/THR (+0; DLL when DLAB), IER (+1; DLM when DLAB),
/// IIR (+2, read), FCR (+2, write, ignored), LCR (+3), MCR (+4), LSR (+5), MSR (+6), SCR (+7).
/// Interrupts: IER bit 0 raises `irq` while received data waits; IER bit 1 raises it after each transmit
/// (the transmitter is always empty at once). The output is a level unless `edgeTriggered` (a UART on an ISA line,
/// which the IOAPIC takes as edges): then each rise of the condition is one edge.
public final class SimSerial16550: SimIODevice {
    public let base: UInt16
    public let irq: UInt64
    public private(set) var output: [UInt8] = []
    private var input: [UInt8] = []
    private var interruptEnable: UInt8 = 0
    private var lineControl: UInt8 = 0
    private var modemControl: UInt8 = 0
    private var scratch: UInt8 = 0
    private var divisor: UInt16 = 0
    private var transmitInterruptPending = false
    public let edgeTriggered: Bool
    private var outputHigh = false

    public init(base: UInt16 = 0x3f8, irq: UInt64 = 4, edgeTriggered: Bool = false) {
        self.base = base
        self.irq = irq
        self.edgeTriggered = edgeTriggered
    }

    public var ports: [UInt16] { (0..<8).map { base + $0 } }
    public var outputText: String { String(decoding: output, as: UTF8.self) }
    /// The baud-rate divisor the driver programmed.
    public var baudDivisor: UInt16 { divisor }

    private var dlab: Bool { lineControl & 0x80 != 0 }

    /// Bytes arriving on the line.
    public func receive(_ bytes: [UInt8], machine: SimMachine) {
        input += bytes
        updateInterrupt(machine)
    }

    public func portIn(_ port: UInt16, machine: SimMachine) -> UInt8 {
        switch port - base {
        case 0:
            if dlab { return UInt8(divisor & 0xff) }
            let byte = input.isEmpty ? 0 : input.removeFirst()
            updateInterrupt(machine)
            return byte
        case 1: return dlab ? UInt8(divisor >> 8) : interruptEnable
        case 2:
            if interruptEnable & 1 != 0 && !input.isEmpty { return 0xc4 }
            if transmitInterruptPending {
                transmitInterruptPending = false // reading IIR clears a THRE interrupt
                updateInterrupt(machine)
                return 0xc2
            }
            return 0xc1
        case 3: return lineControl
        case 4: return modemControl
        case 5: return 0x60 | (input.isEmpty ? 0 : 1) // THR empty, transmitter empty, data ready
        case 6: return 0xb0 // CTS, DSR, DCD
        default: return scratch
        }
    }

    public func portOut(_ port: UInt16, _ value: UInt8, machine: SimMachine) {
        switch port - base {
        case 0:
            if dlab { divisor = (divisor & 0xff00) | UInt16(value); return }
            output.append(value)
            if interruptEnable & 2 != 0 { transmitInterruptPending = true }
            updateInterrupt(machine)
        case 1:
            if dlab { divisor = (divisor & 0x00ff) | UInt16(value) << 8; return }
            interruptEnable = value & 0x0f
            updateInterrupt(machine)
        case 2: break // FIFO control: the model has no FIFO depth to configure
        case 3: lineControl = value
        case 4: modemControl = value
        case 5, 6: break // read-only status registers
        default: scratch = value
        }
    }

    /// The UART's interrupt output is a level: asserted while a condition it was asked to report holds.
    private func updateInterrupt(_ machine: SimMachine) {
        guard irq < machine.interrupts.lineCount else { return }
        let asserted = (interruptEnable & 1 != 0 && !input.isEmpty) || transmitInterruptPending
        if edgeTriggered {
            if asserted && !outputHigh { machine.interrupts.pulse(irq) }
        } else {
            machine.interrupts.setLevel(irq, asserted: asserted)
        }
        outputHigh = asserted
    }
}
