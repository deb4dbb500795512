/// The I/O APIC at 0xfec00000 (version 0x20, 24 pins): IOREGSEL at offset 0x00, IOWIN at 0x10 and the EOI
/// register at 0x40 (which version 0x20 has and Linux uses to end a level interrupt by hand). Registers: ID
/// (0x00), version (0x01), arbitration (0x02), and each pin's redirection entry (0x10 + 2 * pin low, + 1 high):
/// vector, delivery mode, destination mode, delivery status (always idle: messages go at once), polarity,
/// remote IRR, trigger mode, mask, destination.
///
/// Pins take logical levels (asserted or not, as `InterruptLines` defines them), so the polarity bit is kept
/// for the guest to read back and changes nothing: the ACPI tables describe the wiring, the model sees the
/// assertion. Edge pins send a message on each rising edge while unmasked (edges on a masked pin are lost, as
/// on the 82093AA); level pins send while asserted, unmasked and without remote IRR, which the accepting local
/// APIC's EOI clears (`endOfInterrupt`), re-sending at once while the pin is still asserted. Reserved vectors
/// 0-15 in a fixed entry are not delivered: `reservedVectorMessages` counts them, `errors` names the pin.
public final class IOAPIC: MMIODevice {
    public static let defaultBase: UInt64 = 0xfec0_0000
    public static let regionSize: UInt64 = 0x1000
    public static let pinCount = 24
    public static let versionRegister: UInt32 = UInt32(pinCount - 1) << 16 | 0x20
    static let selectOffset: UInt64 = 0x00
    static let windowOffset: UInt64 = 0x10
    static let eoiOffset: UInt64 = 0x40

    // Redirection entry bits.
    static let masked: UInt64 = 1 << 16
    static let levelTriggered: UInt64 = 1 << 15
    static let remoteIRR: UInt64 = 1 << 14
    static let writable: UInt64 = 0xff00_0000_0000_0000 | 1 << 16 | 1 << 15 | 1 << 13 | 0xfff

    private let localAPIC: LocalAPIC
    private var select: UInt8 = 0
    public private(set) var id: UInt8
    private var entries = [UInt64](repeating: IOAPIC.masked, count: IOAPIC.pinCount)
    private var asserted = [Bool](repeating: false, count: IOAPIC.pinCount)
    /// Messages not delivered because their entry had a vector 0-15.
    public private(set) var reservedVectorMessages: UInt64 = 0
    public var errors = DeviceErrorLog()

    public init(localAPIC: LocalAPIC, id: UInt8 = 0) {
        self.localAPIC = localAPIC
        self.id = id & 0x0f
    }

    /// The redirection entry of `pin` as the guest would read it (after any pending EOIs).
    public func redirectionEntry(_ pin: Int) -> UInt64 {
        synchronize()
        return entries[pin % Self.pinCount]
    }

    /// Input `pin` (0-23) asserted or not.
    public func setLevel(pin: Int, high: Bool) {
        guard pin >= 0 && pin < Self.pinCount else { errors.record(.noSuchLine(pin)); return }
        synchronize()
        let rising = high && !asserted[pin]
        asserted[pin] = high
        if entries[pin] & Self.levelTriggered != 0 {
            evaluateLevel(pin)
        } else if rising && entries[pin] & Self.masked == 0 {
            send(pin)
        }
    }

    /// The local APIC's EOI broadcast, or a write of the EOI register: every level entry with `vector` and
    /// remote IRR set is done, and sends again while its pin is still asserted.
    public func endOfInterrupt(vector: UInt8) {
        for pin in 0..<Self.pinCount
        where entries[pin] & Self.levelTriggered != 0 && entries[pin] & Self.remoteIRR != 0
            && UInt8(truncatingIfNeeded: entries[pin]) == vector {
            entries[pin] &= ~Self.remoteIRR
            evaluateLevel(pin)
        }
    }

    /// Takes the EOIs the local APIC broadcast since the last time (the bus message from it to here).
    public func synchronize() {
        for vector in localAPIC.takeEOIBroadcasts() { endOfInterrupt(vector: vector) }
    }

    private func evaluateLevel(_ pin: Int) {
        let entry = entries[pin]
        guard entry & Self.levelTriggered != 0, asserted[pin], entry & (Self.masked | Self.remoteIRR) == 0 else { return }
        send(pin)
    }

    /// Sends `pin`'s message to the local APIC; a level entry's remote IRR is set when a fixed message is accepted.
    private func send(_ pin: Int) {
        let entry = entries[pin]
        let vector = UInt8(truncatingIfNeeded: entry)
        let mode = APICMessage.DeliveryMode(rawValue: UInt8(entry >> 8 & 7)) ?? .reserved3
        let level = entry & Self.levelTriggered != 0
        let fixed = mode == .fixed || mode == .lowestPriority
        if fixed && vector < 16 {
            reservedVectorMessages &+= 1
            errors.record(.reservedVector(.ioapic, source: pin, vector: vector))
        }
        let message = APICMessage(vector: vector, deliveryMode: mode, logicalDestination: entry & 0x800 != 0,
                                  destination: UInt8(truncatingIfNeeded: entry >> 56), levelTriggered: level)
        switch localAPIC.receive(message) {
        case .accepted:
            if level && fixed { entries[pin] |= Self.remoteIRR }
        case .notAddressed:
            errors.record(.noDestination(.ioapic, source: pin, destination: message.destination))
        case .unsupportedMode:
            errors.record(.unsupportedDeliveryMode(.ioapic, source: pin, mode: mode.rawValue))
        case .illegalVector, .softwareDisabled:
            break  // recorded above / the APIC's architectural refusal
        }
    }

    // MARK: MMIODevice

    public func mmioRead(offset: UInt64, size: Int) -> UInt64 {
        synchronize()
        switch (offset, size) {
        case (Self.selectOffset, 1), (Self.selectOffset, 2), (Self.selectOffset, 4): return UInt64(select)
        case (Self.windowOffset, 4): return UInt64(readRegister(select))
        default:
            errors.record(.unsupportedAccess(.ioapic, offset: offset, size: size, write: false))
            return 0
        }
    }

    public func mmioWrite(offset: UInt64, size: Int, value: UInt64) {
        synchronize()
        switch (offset, size) {
        case (Self.selectOffset, 1), (Self.selectOffset, 2), (Self.selectOffset, 4):
            select = UInt8(truncatingIfNeeded: value)
        case (Self.windowOffset, 4): writeRegister(select, UInt32(truncatingIfNeeded: value))
        case (Self.eoiOffset, 4): endOfInterrupt(vector: UInt8(truncatingIfNeeded: value))
        default: errors.record(.unsupportedAccess(.ioapic, offset: offset, size: size, write: true))
        }
    }

    private func readRegister(_ register: UInt8) -> UInt32 {
        switch register {
        case 0x00, 0x02: return UInt32(id) << 24  // ID; arbitration ID (the same on the system bus)
        case 0x01: return Self.versionRegister
        case 0x10..<0x40:
            let entry = entries[Int(register - 0x10) >> 1]
            return UInt32(truncatingIfNeeded: register & 1 == 0 ? entry : entry >> 32)
        default:
            errors.record(.reservedRegister(.ioapic, register: UInt64(register)))
            return 0
        }
    }

    private func writeRegister(_ register: UInt8, _ value: UInt32) {
        switch register {
        case 0x00: id = UInt8(truncatingIfNeeded: value >> 24) & 0x0f
        case 0x01, 0x02: errors.record(.readOnlyRegister(.ioapic, register: UInt64(register)))
        case 0x10..<0x40:
            let pin = Int(register - 0x10) >> 1
            let old = entries[pin]
            let written = register & 1 == 0 ? old & ~0xffff_ffff | UInt64(value) : old & 0xffff_ffff | UInt64(value) << 32
            var entry = written & Self.writable | old & Self.remoteIRR
            // Switching to edge ends a remote IRR (the old way to clear a stuck one, which Linux still knows).
            if entry & Self.levelTriggered == 0 { entry &= ~Self.remoteIRR }
            entries[pin] = entry
            evaluateLevel(pin)
        default:
            errors.record(.reservedRegister(.ioapic, register: UInt64(register)))
        }
    }
}
