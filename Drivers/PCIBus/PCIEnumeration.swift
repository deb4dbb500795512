import ManifestFormat

/// Walks the buses from bus 0: every device, every function of a multi-function device, and the bus behind each
/// PCI-to-PCI bridge (each bus once, so a bridge that names a bus twice cannot loop the walk).
public enum PCIEnumeration {
    public static func scan<C: PCIConfigAccess>(_ config: C) -> [PCIFunction] {
        var result: [PCIFunction] = []
        var buses: [UInt8] = [0]
        var seen: [UInt8] = [0]
        while let bus = buses.first {
            buses.removeFirst()
            for device in UInt8(0)..<32 {
                let first = PCIAddress(bus: bus, device: device, function: 0)
                guard config.read16(first, PCIConfig.vendorID) != 0xffff else { continue }
                let functions: UInt8 = config.read8(first, PCIConfig.headerType) & PCIConfig.multiFunction != 0 ? 8 : 1
                for function in UInt8(0)..<functions {
                    let a = PCIAddress(bus: bus, device: device, function: function)
                    let vendor = config.read16(a, PCIConfig.vendorID)
                    guard vendor != 0xffff else { continue }
                    let header = config.read8(a, PCIConfig.headerType) & 0x7f
                    if header == 1 {
                        let secondary = config.read8(a, PCIConfig.secondaryBus)
                        if secondary != 0, !seen.contains(secondary) {
                            seen.append(secondary)
                            buses.append(secondary)
                        }
                    }
                    result.append(PCIFunction(
                        address: a, vendor: vendor, device: config.read16(a, PCIConfig.deviceID),
                        classCode: config.read32(a, PCIConfig.classCode) >> 8,
                        bars: header == 0 ? PCIBAR.probe(config, a) : [],
                        interruptLine: config.read8(a, PCIConfig.interruptLine),
                        interruptPin: config.read8(a, PCIConfig.interruptPin)))
                }
            }
        }
        return result
    }

    /// The function a manifest selector names: by address, or the first (lowest address) with those IDs that is
    /// not in `taken` (so two components asking for "1af4:1001" get two such devices when there are two).
    public static func find(_ selector: PCIDeviceSelector, in functions: [PCIFunction],
                            taken: [PCIAddress] = []) -> PCIFunction? {
        switch selector {
        case let .address(bus, device, function):
            let a = PCIAddress(bus: bus, device: device, function: function)
            return functions.first { $0.address == a }
        case let .ids(vendor, device):
            return functions.filter { $0.vendor == vendor && $0.device == device && !taken.contains($0.address) }
                .min { $0.address < $1.address }
        }
    }
}
