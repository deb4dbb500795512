/// A device that signals completion with an MSI, behind eight I/O ports from `base` (the registers of a PCI
/// function's MSI capability, plus a doorbell), so drivers and the kernel's message interrupts can be tested
/// without a PCI bus:
///
/// | port | register |
/// |---|---|
/// | base+0..3 | message address, low 32 bits, little-endian (read/write) |
/// | base+4..5 | message data, 16 bits (read/write) |
/// | base+6 | control: bit 0 MSI enable (read/write) |
/// | base+7 | doorbell: a write starts one piece of work; `latency` ticks later the device writes its message (if MSI is enabled then; otherwise it counts a suppressed one). Reads the number of messages sent (low byte) |
public final class SimMSIDevice: SimIODevice {
    public let base: UInt16
    public let latency: UInt64
    public private(set) var address: UInt32 = 0
    public private(set) var data: UInt16 = 0
    public private(set) var enabled = false
    /// Messages written, and completions that found MSI disabled.
    public private(set) var sent = 0
    public private(set) var suppressed = 0
    /// What the machine did with each message sent.
    public private(set) var outcomes: [SimMessageInterrupts.Outcome?] = []

    /// The PCI requester ID its messages carry (what an IOMMU's source validation sees).
    public let requester: UInt64

    public init(base: UInt16, latency: UInt64 = 10, requester: UInt64 = 0) {
        self.base = base
        self.latency = latency
        self.requester = requester
    }

    public var ports: [UInt16] { (0..<8).map { base + $0 } }

    public func portIn(_ port: UInt16, machine: SimMachine) -> UInt8 {
        switch port - base {
        case 0...3: return UInt8(truncatingIfNeeded: address >> (8 * UInt32(port - base)))
        case 4...5: return UInt8(truncatingIfNeeded: data >> (8 * UInt16(port - base - 4)))
        case 6: return enabled ? 1 : 0
        default: return UInt8(truncatingIfNeeded: sent)
        }
    }

    public func portOut(_ port: UInt16, _ value: UInt8, machine: SimMachine) {
        switch port - base {
        case 0...3:
            let shift = 8 * UInt32(port - base)
            address = address & ~(0xff << shift) | UInt32(value) << shift
        case 4...5:
            let shift = 8 * UInt16(port - base - 4)
            data = data & ~(0xff << shift) | UInt16(value) << shift
        case 6: enabled = value & 1 != 0
        default:
            machine.schedule(after: latency, "msi device \(simHex(UInt64(base))) completes") { [self] machine in
                complete(machine)
            }
        }
    }

    /// The work is done: signal it the way the device was programmed.
    private func complete(_ machine: SimMachine) {
        guard enabled else {
            suppressed += 1
            return
        }
        sent += 1
        outcomes.append(machine.deviceWrite(address: UInt64(address), value: UInt32(data), requester: requester))
    }
}
