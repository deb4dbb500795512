/// Names the field of a compiled manifest that a `ManifestDecodeError` is about.
public enum BlobField: UInt8, Equatable, Sendable, CustomStringConvertible {
    case header, interruptCount
    case componentName, binary, componentMemory, priority, budget, componentFlags, counts
    case ioPorts, mmio, interrupt, serviceName, serviceKind, dependency, pciDevice
    case routeName, routeKind, provider, service
    case vmName, vmm, imageKind, guestImage, initrd, commandLine, disk, vmMemory, vcpus, vmFlags

    public var description: String {
        switch self {
        case .header: return "header"
        case .interruptCount: return "interrupt count"
        case .componentName: return "component name"
        case .binary: return "component binary"
        case .componentMemory: return "component memory quota"
        case .priority: return "component priority"
        case .budget: return "component budget"
        case .componentFlags: return "component flags"
        case .counts: return "component counts"
        case .ioPorts: return "I/O port range"
        case .mmio: return "MMIO range"
        case .interrupt: return "interrupt"
        case .serviceName: return "provided service name"
        case .serviceKind: return "provided service kind"
        case .dependency: return "start-up dependency"
        case .pciDevice: return "PCI device"
        case .routeName: return "used service name"
        case .routeKind: return "used service kind"
        case .provider: return "service provider index"
        case .service: return "service index"
        case .vmName: return "VM name"
        case .vmm: return "VM's VMM index"
        case .imageKind: return "VM image kind"
        case .guestImage: return "VM guest image"
        case .initrd: return "VM initrd"
        case .commandLine: return "VM command line"
        case .disk: return "VM disk"
        case .vmMemory: return "VM memory"
        case .vcpus: return "VM vCPU count"
        case .vmFlags: return "VM flags"
        }
    }
}
