/// A 16550A UART (COM1 at 0x3f8, IRQ 4) as far as Linux's 8250 driver probes and uses it: divisor latch (LCR.DLAB),
/// IER with the transmit-empty and receive interrupts, IIR with the FIFO bits of a 16550A (FCR enables them), LCR,
/// MCR with loopback (MSR then mirrors MCR's outputs, which the driver's probe checks), LSR, MSR and the scratch
/// register. The transmitter is infinitely fast: a byte written to THR is handed to the VMM (`takeOutput`) at once
/// and THR is empty again, so the transmit-empty interrupt (when enabled) is pending right after every write, as on
/// a real UART a little later. Nothing is ever received (no input source); in loopback, written bytes are received.
/// OUT2 gates the interrupt line, as on PC serial cards.
public final class Serial16550: PortIODevice {
    public static let com1: UInt16 = 0x3f8
    public static let com1Line = 4
    public static let portCount: UInt16 = 8

    public let base: UInt16
    private let lines: (any InterruptLines)?
    private let line: Int

    private var divisor: UInt16 = 12  // 9600 baud
    private var interruptEnable: UInt8 = 0
    private var lineControl: UInt8 = 0x03
    private var modemControl: UInt8 = 0
    private var scratch: UInt8 = 0
    private var fifoEnabled = false
    /// The transmit-empty interrupt is pending (set when THR empties with IER.THRI set, cleared by reading IIR
    /// while it is the one shown, or by writing THR).
    private var transmitEmptyPending = false
    /// Bytes received in loopback mode (at most a FIFO's 16).
    private var received: [UInt8] = []
    private var output: [UInt8] = []
    private var lineHigh = false

    public init(base: UInt16 = Serial16550.com1, lines: (any InterruptLines)? = nil, line: Int = Serial16550.com1Line) {
        self.base = base
        self.lines = lines
        self.line = line
    }

    public func decodes(_ port: UInt16) -> Bool { port >= base && port - base < Self.portCount }

    /// The bytes the guest transmitted since the last call (not those looped back).
    public func takeOutput() -> [UInt8] {
        let bytes = output
        output = []
        return bytes
    }

    private var dlab: Bool { lineControl & 0x80 != 0 }
    private var loopback: Bool { modemControl & 0x10 != 0 }

    public func portRead(_ port: UInt16, size: Int) -> UInt32 {
        guard decodes(port) else { return 0xffff_ffff }
        var value: UInt32 = 0
        for i in 0..<max(1, min(size, 4)) {
            let at = port &+ UInt16(i)
            value |= UInt32(decodes(at) ? readByte(Int(at - base)) : 0xff) << (8 * UInt32(i))
        }
        return value
    }

    public func portWrite(_ port: UInt16, size: Int, value: UInt32) {
        guard decodes(port) else { return }
        for i in 0..<max(1, min(size, 4)) {
            let at = port &+ UInt16(i)
            if decodes(at) { writeByte(Int(at - base), UInt8(truncatingIfNeeded: value >> (8 * UInt32(i)))) }
        }
    }

    private func readByte(_ register: Int) -> UInt8 {
        defer { updateLine() }
        switch register {
        case 0:
            if dlab { return UInt8(truncatingIfNeeded: divisor) }
            return received.isEmpty ? 0 : received.removeFirst()
        case 1: return dlab ? UInt8(truncatingIfNeeded: divisor >> 8) : interruptEnable
        case 2:
            let fifoBits: UInt8 = fifoEnabled ? 0xc0 : 0
            if interruptEnable & 0x01 != 0 && !received.isEmpty { return fifoBits | 0x04 }  // received data
            if transmitEmptyPending {
                transmitEmptyPending = false
                return fifoBits | 0x02
            }
            return fifoBits | 0x01  // none pending
        case 3: return lineControl
        case 4: return modemControl
        case 5: return 0x60 | (received.isEmpty ? 0 : 0x01)  // THR and transmitter empty; data ready
        case 6:
            guard loopback else { return 0xb0 }  // CTS, DSR, DCD
            // Loopback: DTR -> DSR, RTS -> CTS, OUT1 -> RI, OUT2 -> DCD.
            let m = modemControl
            return (m & 0x01) << 5 | (m & 0x02) << 3 | (m & 0x04) << 4 | (m & 0x08) << 4
        default: return scratch
        }
    }

    private func writeByte(_ register: Int, _ value: UInt8) {
        defer { updateLine() }
        switch register {
        case 0:
            if dlab { divisor = divisor & 0xff00 | UInt16(value); return }
            if loopback {
                if received.count < 16 { received.append(value) }
            } else {
                output.append(value)
            }
            transmitEmptyPending = interruptEnable & 0x02 != 0
        case 1:
            if dlab { divisor = divisor & 0x00ff | UInt16(value) << 8; return }
            let enabling = value & 0x02 != 0 && interruptEnable & 0x02 == 0
            interruptEnable = value & 0x0f
            // THR is always empty: enabling its interrupt raises it at once (the driver's start_tx relies on it).
            if enabling { transmitEmptyPending = true }
            if value & 0x02 == 0 { transmitEmptyPending = false }
        case 2:
            fifoEnabled = value & 0x01 != 0
            if value & 0x02 != 0 { received = [] }
        case 3: lineControl = value
        case 4: modemControl = value & 0x1f
        case 7: scratch = value
        default: break  // LSR and MSR are read-only
        }
    }

    /// IRQ 4 follows the pending interrupts, gated by OUT2 (and silent in loopback).
    private func updateLine() {
        let pending = transmitEmptyPending || (interruptEnable & 0x01 != 0 && !received.isEmpty)
        let high = pending && modemControl & 0x08 != 0 && !loopback
        guard high != lineHigh else { return }
        lineHigh = high
        lines?.setLevel(line: line, high: high)
    }
}
