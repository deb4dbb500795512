import DeviceModels

/// The Differentiated System Description Table: the guest's AML namespace (ACPI 6.5, 5.2.11.1), revision 2
/// (64-bit integers). It holds
/// - `\_S5`, Package(){SLP_TYPa, SLP_TYPb, 0, 0}, the soft-off state Linux's power-off writes to PM1_CNT (the only
///   sleep state offered);
/// - if the platform has one, `\_SB.PCI0`, the PCI host bridge (PNP0A03) with its _CRS (bus numbers 0-255, the
///   configuration ports 0xcf8-0xcff, the I/O windows around them and the memory window) and, when routes are
///   given, a _PRT. With ACPI on, Linux scans only the PCI buses ACPI names, so without PCI0 it finds no device.
public enum DSDT {
    public static let revision: UInt8 = 2

    public static func make(platform: GuestPlatform) -> [UInt8] {
        var terms: [[UInt8]] = []
        if let bridge = platform.pciHostBridge {
            terms.append(AML.scope("\\_SB_", [pciHostBridge(bridge)]))
        }
        let s5 = UInt64(platform.powerManagement.s5SleepType)
        terms.append(AML.nameObject("\\_S5_", AML.package([AML.integer(s5), AML.integer(s5), AML.integer(0), AML.integer(0)])))
        return ACPITableHeader.table(signature: "DSDT", revision: revision, body: terms.flatMap { $0 })
    }

    static func pciHostBridge(_ bridge: PCIHostBridge) -> [UInt8] {
        let resources = ResourceTemplate.busNumbers(0, 0xff)
            + ResourceTemplate.ioPorts(0xcf8, count: 8)
            + ResourceTemplate.ioWindow(0x0000, 0x0cf7)
            + ResourceTemplate.ioWindow(0x0d00, 0xffff)
            + ResourceTemplate.memoryWindow(UInt32(truncatingIfNeeded: bridge.memoryWindowStart),
                                            UInt32(truncatingIfNeeded: bridge.memoryWindowEnd))
            + ResourceTemplate.end
        var terms = [
            AML.nameObject("_HID", AML.eisaID("PNP0A03")),
            AML.nameObject("_UID", AML.integer(0)),
            AML.nameObject("_BBN", AML.integer(0)),
            AML.nameObject("_CRS", AML.buffer(resources)),
        ]
        if !bridge.interruptRoutes.isEmpty {
            // Each entry: Package(){address (device << 16 | 0xffff: any function), pin, source 0 (a GSI), GSI}.
            let routes = bridge.interruptRoutes.map { route in
                AML.package([AML.integer(UInt64(route.device) << 16 | 0xffff), AML.integer(UInt64(route.pin)),
                             AML.integer(0), AML.integer(UInt64(route.gsi))])
            }
            terms.append(AML.nameObject("_PRT", AML.package(routes)))
        }
        return AML.device("PCI0", terms)
    }
}
