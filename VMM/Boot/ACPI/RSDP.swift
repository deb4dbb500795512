/// The Root System Description Pointer, ACPI 2.0+ form (ACPI 6.5, 5.2.5.3): revision 2, pointing at both the RSDT
/// and the XSDT, with the checksum over its first 20 bytes and the extended checksum over all 36. Linux finds it
/// through boot_params.acpi_rsdp_addr or by scanning 0xe0000-0xfffff on 16-byte boundaries.
public enum RSDP {
    public static let size = 36
    public static let signature = "RSD PTR "

    public static func make(rsdt: UInt32, xsdt: UInt64) -> [UInt8] {
        var t = LittleEndianBytes(count: size)
        t.set(0, ascii: signature, width: 8)
        t.set(9, ascii: ACPITableHeader.oemID, width: 6)
        t.set(15, u8: 2)
        t.set(16, u32: rsdt)
        t.set(20, u32: UInt32(size))
        t.set(24, u64: xsdt)
        var bytes = t.bytes
        bytes[8] = ACPITableHeader.checksum(of: Array(bytes[0..<20]))
        bytes[32] = ACPITableHeader.checksum(of: bytes)
        return bytes
    }
}
