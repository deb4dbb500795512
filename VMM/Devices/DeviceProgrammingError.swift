/// The device model that reported a `DeviceProgrammingError`.
public enum ReportingDevice: Equatable {
    case pic, pit, systemControlPort, rtc, localAPIC, ioapic, interruptRouting

    public var name: String {
        switch self {
        case .pic: return "8259 PIC"
        case .pit: return "8254 PIT"
        case .systemControlPort: return "port 0x61"
        case .rtc: return "CMOS RTC"
        case .localAPIC: return "local APIC"
        case .ioapic: return "IOAPIC"
        case .interruptRouting: return "interrupt routing"
        }
    }
}

/// Something a guest asked of a device model that the hardware refuses, ignores or leaves undefined. The device
/// carries on with the architectural behaviour (where the hardware leaves it undefined, the behaviour each case
/// names) and only that VM is affected; the VMM takes these from the device's `errors` and logs them, so a
/// misprogramming guest is visible instead of silently absorbed.
public enum DeviceProgrammingError: Equatable {
    /// A port or MMIO access of a size or alignment the register does not decode: reads float, writes are dropped.
    case unsupportedAccess(ReportingDevice, offset: UInt64, size: Int, write: Bool)
    /// A write to a read-only register: dropped, as on the hardware.
    case readOnlyRegister(ReportingDevice, register: UInt64)
    /// An access to a reserved register: reads 0, writes are dropped.
    case reservedRegister(ReportingDevice, register: UInt64)
    /// A fixed interrupt with a vector 0-15 (reserved for exceptions): never delivered; the local APIC's ESR says
    /// so too. `source` is the IOAPIC pin or local APIC LVT index (-1: an IPI).
    case reservedVector(ReportingDevice, source: Int, vector: UInt8)
    /// A delivery mode this single-vCPU model does not deliver (SMI, INIT, start-up, the reserved encodings).
    case unsupportedDeliveryMode(ReportingDevice, source: Int, mode: UInt8)
    /// An interrupt message addressed to no local APIC of this VM: dropped, as a message nobody accepts.
    case noDestination(ReportingDevice, source: Int, destination: UInt8)
    /// A PIT count the 8254 calls illegal (a count of 1 in modes 2 and 3, BCD digits above 9): the count runs as
    /// the channel's status reads it back (period of one clock; digits taken at face value, modulo 10000).
    case illegalCount(channel: Int, mode: Int, count: UInt32)
    /// A command the model does not implement (8080 mode, a level-triggered ICW1, a slave ID other than 2, RTC
    /// divider test modes); the chip carries on as a PC's does.
    case unsupportedCommand(ReportingDevice, value: UInt8)
    /// An out-of-range time or date value in an RTC register: taken modulo its range (clamped for the day).
    case invalidTimeValue(register: UInt8, value: UInt8)
    /// An interrupt line the PC does not have (ISA IRQ 2 is the cascade; lines above 23 do not exist).
    case noSuchLine(Int)

    /// One line for the VMM's log.
    public var message: String {
        switch self {
        case .unsupportedAccess(let device, let offset, let size, let write):
            return "\(device.name): \(size)-byte \(write ? "write" : "read") at offset 0x\(hex(offset)) not decoded"
        case .readOnlyRegister(let device, let register):
            return "\(device.name): write to read-only register 0x\(hex(register)) dropped"
        case .reservedRegister(let device, let register):
            return "\(device.name): access to reserved register 0x\(hex(register))"
        case .reservedVector(let device, let source, let vector):
            return "\(device.name): source \(source) uses reserved vector \(vector), not delivered"
        case .unsupportedDeliveryMode(let device, let source, let mode):
            return "\(device.name): source \(source) uses delivery mode \(mode), not delivered"
        case .noDestination(let device, let source, let destination):
            return "\(device.name): source \(source) addresses destination 0x\(hex(UInt64(destination))), no such APIC"
        case .illegalCount(let channel, let mode, let count):
            return "8254 PIT: channel \(channel) mode \(mode) count \(count) is illegal"
        case .unsupportedCommand(let device, let value):
            return "\(device.name): unsupported command 0x\(hex(UInt64(value)))"
        case .invalidTimeValue(let register, let value):
            return "CMOS RTC: register 0x\(hex(UInt64(register))) value 0x\(hex(UInt64(value))) out of range"
        case .noSuchLine(let line):
            return "interrupt routing: line \(line) does not exist"
        }
    }
}

private func hex(_ value: UInt64) -> String { String(value, radix: 16) }
