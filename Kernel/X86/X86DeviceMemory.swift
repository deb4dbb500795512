import BootFormat
import Kernel
import KernelABI
import X86Shims

/// This machine's device memory (what the root task may claim, BootFormat.DeviceAddressSpace) and its PCI
/// configuration windows from the ACPI MCFG. Kept from the root: the IOAPIC's and the local APIC's 1 MiB (the
/// latter is also where MSI writes land) and every VT-d unit's register page, all of which the kernel drives.
func deviceMemoryAndConfigurationWindows(_ info: UnsafePointer<hv_boot_info>, _ configuration: BootConfiguration,
                                         iommuRegisters: [UInt64]) -> ([PhysicalRange], [ConfigurationWindow]) {
    let boot = info.pointee
    var heapBase: UInt64 = 0, heapSize: UInt64 = 0
    heap_arena(&heapBase, &heapSize)
    let memory = configuration.freeMemory + [
        configuration.bundle, PhysicalRange(base: boot.kernel_base, size: boot.kernel_size),
        PhysicalRange(base: heapBase, size: heapSize),
        PhysicalRange(base: UInt64(UInt(bitPattern: info)), size: UInt64(MemoryLayout<hv_boot_info>.size)),
        PhysicalRange(base: 0, size: boot.memory_end_below_4g), PhysicalRange(base: 0, size: boot.memory_end),
    ]
    var kept = [PhysicalRange(base: 0xfec0_0000, size: 1 << 20), PhysicalRange(base: 0xfee0_0000, size: 1 << 20)]
    for unit in iommuRegisters { kept.append(PhysicalRange(base: unit, size: 4096)) }
    let limit = min(UInt64(1) << UInt64(min(x86_physical_address_bits(), 52)), AddressLayout.physicalLimit)
    let devices = DeviceAddressSpace.ranges(memory: memory, kept: kept, limit: limit)
    var windows: [ConfigurationWindow] = []
    for window in configurationWindows(rsdp: boot.acpi_rsdp) {
        let r = window.range
        guard devices.contains(where: { $0.base <= r.base && r.end <= $0.end }) else {
            print("kernel: PCI configuration window \(window.description) is not device memory (it overlaps memory "
                  + "or the kernel's registers): not given to the root task")
            continue
        }
        windows.append(window)
    }
    var summary = ""
    for r in devices { summary += (summary.isEmpty ? "" : ", ") + "0x" + String(r.base, radix: 16) + "-0x" + String(r.end - 1, radix: 16) }
    print("kernel: device memory the root task may claim: " + (summary.isEmpty ? "none" : summary))
    return (devices, windows) // more than RootBootInfo can list is a boot error naming them
}

/// The ECAM windows the MCFG lists; none (and a line saying why) without a usable table.
private func configurationWindows(rsdp: UInt64) -> [ConfigurationWindow] {
    var table: UnsafePointer<UInt8>? = nil
    var length: UInt32 = 0
    let found = x86_acpi_find_table(rsdp, "MCFG", &table, &length)
    guard found == Int32(X86_ACPI_FOUND), let table else {
        print("kernel: no ACPI MCFG (\(acpiProblem(found))): PCI configuration only through ports 0xcf8/0xcfc")
        return []
    }
    do {
        let mcfg = try MCFGTable(table: Array(UnsafeBufferPointer(start: table, count: Int(length))))
        var text = ""
        for w in mcfg.windows { text += (text.isEmpty ? "" : ", ") + w.description }
        print("kernel: PCI configuration windows (ACPI MCFG): " + text)
        return mcfg.windows
    } catch {
        print("kernel: ACPI MCFG rejected: \(error.description); PCI configuration only through ports 0xcf8/0xcfc")
        return []
    }
}
