import BootFormat
import X86Shims

/// Whether devices' DMA and MSI messages are confined, said at boot (a test reads the line): only an IOMMU
/// programmed with per-device tables confines DMA, and only its interrupt remapping confines the vectors a device
/// can raise (without it a device can be made to write any vector's message). With exactly one VT-d unit in the
/// ACPI DMAR table the kernel turns DMA translation on (every device blocked until `assign_dev` binds it), and
/// interrupt remapping when the DMAR and the unit offer it (every line's entry for the IOAPIC, a message
/// interrupt's only while assigned for one device, compatibility format blocked). Returns the register pages of the
/// DMAR's units (programmed or not), which the root task must never claim as device memory.
func reportDMAConfinement(rsdp: UInt64, platform: X86Platform) -> [UInt64] {
    let unconfined = "MSI vectors are not confined, DMA is not confined"
    var table: UnsafePointer<UInt8>? = nil
    var length: UInt32 = 0
    let found = x86_acpi_find_dmar(rsdp, &table, &length)
    guard found == Int32(X86_ACPI_FOUND), let table else {
        let why = found == Int32(X86_ACPI_NOT_LISTED) ? "ACPI lists no DMAR table" : acpiProblem(found)
        print("kernel: no IOMMU (\(why)): \(unconfined)")
        return []
    }
    let bytes = Array(UnsafeBufferPointer(start: table, count: Int(length)))
    do {
        let dmar = try DMARTable(table: bytes)
        let registers = dmar.units.map { $0.registerBase }
        guard dmar.units.count == 1, dmar.units[0].segment == 0 else {
            print("kernel: IOMMU: VT-d, \(dmar.summary); not programmed (one unit on segment 0 is supported): \(unconfined)")
            return registers
        }
        if let problem = platform.enableDMARemapping(registerBase: dmar.units[0].registerBase) {
            print("kernel: IOMMU: VT-d, \(dmar.summary); not programmed (\(problem)): \(unconfined)")
            return registers
        }
        var interrupts = "MSI vectors are not confined (the DMAR offers no interrupt remapping)"
        if dmar.interruptRemapping {
            if let problem = platform.enableInterruptRemapping(ioapics: dmar.units[0].ioapics) {
                interrupts = "MSI vectors are not confined (interrupt remapping not on: \(problem))"
            } else {
                interrupts = "interrupt remapping on: MSI vectors are confined (a device raises only the message "
                    + "interrupts assigned for it)"
            }
        }
        print("kernel: IOMMU: VT-d, \(dmar.summary); DMA remapping on (a device reaches only the memory of the PD "
              + "it is bound to), \(interrupts)")
        return registers
    } catch {
        print("kernel: IOMMU: ACPI DMAR rejected: \(error.description); \(unconfined)")
        return []
    }
}
