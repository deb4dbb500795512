import BootFormat
import KernelABI
import ManifestFormat
import PCIBus
import UserRuntime

/// Device memory the root hands out: a component's MMIO BARs and the PCI driver's configuration window, claimed
/// from the kernel (`claim_mmio`) when first granted, so the root pays page tables only for what it gives away.
extension Supervisor {
    /// Claims what the root does not hold yet of `range` (page aligned); nil when all of it is held afterwards,
    /// else the kernel's answer for the first block it refused (RAM, the kernel's own registers, beyond the limit).
    func claimDeviceMemory(_ range: MMIORange) -> Status? {
        let first = range.base >> AddressLayout.pageShift
        for (page, order) in CapabilityRange.alignedBlocks(first: first, count: range.size >> AddressLayout.pageShift) {
            let window = (AddressLayout.physicalWindow >> AddressLayout.pageShift) + page
            if sys.lookup(CapabilityRange(kind: .memory, base: window, order: order, permissions: 0)).found?.kind == .memory {
                continue
            }
            let status = sys.claimDeviceMemory(firstPage: page, order: order)
            guard status == .success else { return status }
        }
        return nil
    }

    /// The window the PCI driver reads configuration space through: segment 0's (the only segment the PCI driver
    /// serves), claimed; nil without an MCFG or when the kernel refuses it (the driver then gets ports 0xcf8).
    func claimConfigurationWindow() -> ConfigurationWindow? {
        guard let window = configurationWindows.first(where: { $0.segment == 0 }) else { return nil }
        let range = MMIORange(base: window.range.base, size: window.range.size)
        if let refused = claimDeviceMemory(range) {
            console.line("root: PCI configuration window \(window.description) not claimed (\(refused)): "
                         + "the PCI driver gets ports 0xcf8..0xcff")
            return nil
        }
        return window
    }
}
