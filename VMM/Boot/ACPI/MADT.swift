/// The Multiple APIC Description Table (signature "APIC", ACPI 6.5, 5.2.12): the local APIC address and PCAT_COMPAT
/// (the machine also has dual 8259 PICs, which the OS masks when it takes the IOAPIC), one Processor Local APIC per
/// vCPU (APIC id = processor UID = vCPU index, enabled), the IOAPIC (id 0, GSI base 0), the ISA overrides and the
/// local APICs' NMI input (LINT1, as on PCs).
public enum MADT {
    public static let revision: UInt8 = 5
    public static let pcatCompatible: UInt32 = 1
    public static let ioAPICID: UInt8 = 0

    // Entry types.
    public static let localAPICType: UInt8 = 0, ioAPICType: UInt8 = 1, overrideType: UInt8 = 2, localNMIType: UInt8 = 4
    // MPS INTI flags: polarity in bits 0-1, trigger mode in bits 2-3.
    public static let activeHigh: UInt16 = 0x1, activeLow: UInt16 = 0x3, edge: UInt16 = 0x1 << 2, level: UInt16 = 0x3 << 2

    /// An ISA IRQ delivered on another GSI or with other than ISA's edge / active-high signalling.
    public struct Override: Equatable {
        public var irq: UInt8
        public var gsi: UInt32
        public var flags: UInt16
    }

    /// The PIT's IRQ 0 arrives at IOAPIC pin 2 (pin 0 is the 8259's output), and the SCI is level, active high.
    public static func overrides(sciLine: Int) -> [Override] {
        [Override(irq: 0, gsi: 2, flags: edge | activeHigh),
         Override(irq: UInt8(truncatingIfNeeded: sciLine), gsi: UInt32(truncatingIfNeeded: sciLine), flags: level | activeHigh)]
    }

    public static func make(vcpuCount: Int, sciLine: Int) -> [UInt8] {
        var body = LittleEndianBytes.encode(GuestPlatform.localAPICAddress, width: 4) + LittleEndianBytes.encode(UInt64(pcatCompatible), width: 4)
        for cpu in 0..<vcpuCount {
            // ACPI processor UID, APIC id, flags (bit 0: enabled).
            body += [localAPICType, 8, UInt8(truncatingIfNeeded: cpu), UInt8(truncatingIfNeeded: cpu)] + LittleEndianBytes.encode(1, width: 4)
        }
        body += [ioAPICType, 12, ioAPICID, 0] + LittleEndianBytes.encode(GuestPlatform.ioAPICAddress, width: 4) + LittleEndianBytes.encode(0, width: 4)
        for o in overrides(sciLine: sciLine) {
            // Bus 0 (ISA), source IRQ, GSI, flags.
            body += [overrideType, 10, 0, o.irq] + LittleEndianBytes.encode(UInt64(o.gsi), width: 4) + LittleEndianBytes.encode(UInt64(o.flags), width: 2)
        }
        // All processors (UID 0xff), flags 0 (conforms to the bus: edge, active high), LINT1.
        body += [localNMIType, 6, 0xff, 0, 0, 1]
        return ACPITableHeader.table(signature: "APIC", revision: revision, body: body)
    }
}
