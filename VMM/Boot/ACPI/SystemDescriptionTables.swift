/// The RSDT (32-bit entries, for ACPI 1.0 readers) and the XSDT (64-bit entries, what Linux reads when the RSDP
/// has revision 2): the lists of the other tables' addresses (ACPI 6.5, 5.2.7 and 5.2.8). The DSDT and the FACS are
/// reached through the FADT, not listed.
public enum SystemDescriptionTables {
    public static func rsdt(_ tables: [UInt64]) -> [UInt8] {
        ACPITableHeader.table(signature: "RSDT", revision: 1,
                              body: tables.flatMap { LittleEndianBytes.encode($0, width: 4) })
    }

    public static func xsdt(_ tables: [UInt64]) -> [UInt8] {
        ACPITableHeader.table(signature: "XSDT", revision: 1,
                              body: tables.flatMap { LittleEndianBytes.encode($0, width: 8) })
    }
}
