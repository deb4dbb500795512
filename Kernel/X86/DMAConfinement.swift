import BootFormat
import X86Shims

/// Whether devices' DMA and MSI messages are confined, said at boot (a test reads the line): only an IOMMU
/// programmed with per-device tables confines DMA, and only its interrupt remapping confines the vectors a device
/// can raise (without it a device can be made to write any vector's message). This kernel reads the ACPI DMAR
/// table to name the VT-d units it finds, but does not program them yet, so both are unconfined on every machine.
func reportDMAConfinement(rsdp: UInt64) {
    let unconfined = "MSI vectors are not confined, DMA is not confined"
    var table: UnsafePointer<UInt8>? = nil
    var length: UInt32 = 0
    let found = x86_acpi_find_dmar(rsdp, &table, &length)
    guard found == Int32(X86_ACPI_FOUND), let table else {
        let why = found == Int32(X86_ACPI_NOT_LISTED) ? "ACPI lists no DMAR table" : acpiProblem(found)
        print("kernel: no IOMMU (\(why)): \(unconfined)")
        return
    }
    let bytes = Array(UnsafeBufferPointer(start: table, count: Int(length)))
    do {
        let dmar = try DMARTable(table: bytes)
        print("kernel: IOMMU: VT-d, \(dmar.summary); not programmed by this kernel: \(unconfined)")
    } catch {
        print("kernel: IOMMU: ACPI DMAR rejected: \(error.description); \(unconfined)")
    }
}
