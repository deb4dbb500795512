import BootFormat
import X86Shims

/// The interrupt routing of this machine: the MADT's interrupt source overrides (acpi.c finds the table, BootFormat
/// checks and reads it). Without a usable MADT every line stays at its own pin (ISA edge/high, PCI level/low), and
/// the boot line says why.
func acpiInterruptRouting(rsdp: UInt64) -> InterruptRouting {
    var table: UnsafePointer<UInt8>? = nil
    var length: UInt32 = 0
    let found = x86_acpi_find_madt(rsdp, &table, &length)
    guard found == Int32(X86_ACPI_FOUND), let table else {
        print("kernel: no ACPI MADT (\(acpiProblem(found))): every interrupt line at its own pin")
        return .standard
    }
    let bytes = Array(UnsafeBufferPointer(start: table, count: Int(length)))
    do {
        let routing = try InterruptRouting(madt: bytes)
        print("kernel: ACPI MADT interrupt overrides: \(routing.overrideSummary)")
        return routing
    } catch {
        print("kernel: ACPI MADT rejected: \(error.description); every interrupt line at its own pin")
        return .standard
    }
}

func acpiProblem(_ code: Int32) -> String {
    switch code {
    case Int32(X86_ACPI_NO_RSDP): return "the firmware gave no RSDP"
    case Int32(X86_ACPI_BAD_RSDP): return "the RSDP is malformed"
    case Int32(X86_ACPI_BAD_ROOT): return "the XSDT/RSDT is malformed or above 4 GiB"
    case Int32(X86_ACPI_TOO_LARGE): return "the table claims more than 1 MiB"
    default: return "the XSDT/RSDT lists none"
    }
}
