import DeviceModels

/// The guest's ACPI tables as one image for guest memory at `base` (64-byte aligned, below 4 GiB: the RSDT and the
/// FADT's 32-bit pointers must reach it), in this order, each 64-byte aligned:
///
///     RSDP (36 bytes, at base: in 0xe0000-0xfffff Linux's scan finds it), RSDT, XSDT -> FADT, MADT;
///     FADT -> FACS, DSDT
public struct ACPITables {
    public static let defaultBase: UInt64 = 0xe_0000
    static let alignment = 64

    public struct Table: Equatable {
        public var signature: String
        public var address: UInt64
        public var length: Int
    }

    public let base: UInt64
    public let bytes: [UInt8]
    public var rsdpAddress: UInt64 { base }
    /// Every table but the RSDP, where it is placed.
    public let tables: [Table]

    public init(platform: GuestPlatform, base: UInt64 = defaultBase) throws(ACPIError) {
        try Self.check(platform, base: base)
        // Sizes are fixed but for the MADT and the DSDT: lay out with them first, then fill in the pointers.
        let madt = MADT.make(vcpuCount: platform.vcpuCount, sciLine: platform.powerManagement.sciLine)
        let dsdt = DSDT.make(platform: platform)
        func aligned(_ n: Int) -> Int { (n + Self.alignment - 1) & ~(Self.alignment - 1) }
        let rsdtOffset = aligned(RSDP.size)
        let rsdtSize = ACPITableHeader.size + 2 * 4
        let xsdtOffset = aligned(rsdtOffset + rsdtSize)
        let xsdtSize = ACPITableHeader.size + 2 * 8
        let fadtOffset = aligned(xsdtOffset + xsdtSize)
        let facsOffset = aligned(fadtOffset + FADT.size)
        let madtOffset = aligned(facsOffset + FACS.size)
        let dsdtOffset = aligned(madtOffset + madt.count)
        let end = dsdtOffset + dsdt.count
        guard base + UInt64(end) <= 1 << 32 else { throw .doesNotFitBelow4GiB(base: base, size: end) }
        func at(_ offset: Int) -> UInt64 { base + UInt64(offset) }

        let fadt = FADT.make(platform: platform, facs: at(facsOffset), dsdt: at(dsdtOffset))
        var image = LittleEndianBytes(count: end)
        image.set(0, bytes: RSDP.make(rsdt: UInt32(at(rsdtOffset)), xsdt: at(xsdtOffset)))
        image.set(rsdtOffset, bytes: SystemDescriptionTables.rsdt([at(fadtOffset), at(madtOffset)]))
        image.set(xsdtOffset, bytes: SystemDescriptionTables.xsdt([at(fadtOffset), at(madtOffset)]))
        image.set(fadtOffset, bytes: fadt)
        image.set(facsOffset, bytes: FACS.make())
        image.set(madtOffset, bytes: madt)
        image.set(dsdtOffset, bytes: dsdt)
        self.base = base
        bytes = image.bytes
        tables = [
            Table(signature: "RSDT", address: at(rsdtOffset), length: rsdtSize),
            Table(signature: "XSDT", address: at(xsdtOffset), length: xsdtSize),
            Table(signature: "FACP", address: at(fadtOffset), length: fadt.count),
            Table(signature: "FACS", address: at(facsOffset), length: FACS.size),
            Table(signature: "APIC", address: at(madtOffset), length: madt.count),
            Table(signature: "DSDT", address: at(dsdtOffset), length: dsdt.count),
        ]
    }

    /// What the tables could not express truthfully.
    static func check(_ platform: GuestPlatform, base: UInt64) throws(ACPIError) {
        guard base % UInt64(alignment) == 0 else { throw .misalignedBase(base) }
        // xAPIC ids are 8 bits and 0xff is the broadcast id; more vCPUs would need x2APIC entries.
        guard platform.vcpuCount >= 1, platform.vcpuCount <= 255 else { throw .badVCPUCount(platform.vcpuCount) }
        let pm = platform.powerManagement
        guard pm.sciLine > 0, pm.sciLine < 16, pm.sciLine != 2 else { throw .badSCILine(pm.sciLine) }
        // The PM1 blocks and the reset port: inside the port space, apart from each other.
        let event = Int(pm.eventBlock)..<Int(pm.eventBlock) + Int(ACPIPowerManagement.Layout.eventBlockLength)
        let control = Int(pm.controlBlock)..<Int(pm.controlBlock) + Int(ACPIPowerManagement.Layout.controlBlockLength)
        guard event.upperBound <= 0x1_0000, control.upperBound <= 0x1_0000, !event.overlaps(control),
              !event.contains(Int(pm.resetPort)), !control.contains(Int(pm.resetPort)), pm.s5SleepType < 8
        else { throw .badPowerManagementLayout(pm) }
        if let bridge = platform.pciHostBridge {
            guard bridge.memoryWindowStart < bridge.memoryWindowEnd, bridge.memoryWindowEnd < GuestPlatform.ioAPICAddress
            else { throw .badPCIWindow(start: bridge.memoryWindowStart, end: bridge.memoryWindowEnd) }
            for route in bridge.interruptRoutes {
                guard route.device < 32, route.pin < 4, route.gsi < GuestPlatform.ioAPICPins else {
                    throw .badInterruptRoute(route)
                }
            }
        }
    }
}

public enum ACPIError: Error, Equatable, CustomStringConvertible {
    case misalignedBase(UInt64)
    case doesNotFitBelow4GiB(base: UInt64, size: Int)
    case badVCPUCount(Int)
    case badSCILine(Int)
    case badPowerManagementLayout(ACPIPowerManagement.Layout)
    case badPCIWindow(start: UInt64, end: UInt64)
    case badInterruptRoute(PCIInterruptRoute)

    public var description: String {
        switch self {
        case .misalignedBase(let base):
            return "ACPI tables at 0x" + String(base, radix: 16) + ": the base must be 64-byte aligned"
        case .doesNotFitBelow4GiB(let base, let size):
            return "ACPI tables of \(size) bytes at 0x" + String(base, radix: 16) + " do not end below 4 GiB"
        case .badVCPUCount(let count):
            return "\(count) vCPUs: the MADT describes 1 to 255 (8-bit local APIC ids, 0xff is broadcast)"
        case .badSCILine(let line):
            return "SCI on IRQ \(line): it must be an ISA IRQ (1-15) other than 2 (the cascade / PIT override)"
        case .badPowerManagementLayout(let pm):
            return "power management at PM1a_EVT 0x" + String(pm.eventBlock, radix: 16) + " (4 ports), PM1a_CNT 0x"
                + String(pm.controlBlock, radix: 16) + " (2 ports), reset 0x" + String(pm.resetPort, radix: 16)
                + ", S5 type \(pm.s5SleepType): the blocks must lie apart below 0x10000, the S5 type fit SLP_TYP's 3 bits"
        case .badPCIWindow(let start, let end):
            return "PCI memory window 0x" + String(start, radix: 16) + "-0x" + String(end, radix: 16)
                + " must be non-empty and end below the IOAPIC at 0xfec00000"
        case .badInterruptRoute(let r):
            return "PCI interrupt route device \(r.device) pin \(r.pin) -> GSI \(r.gsi): device < 32, pin 0-3 (INTA-INTD), GSI < 24"
        }
    }
}
