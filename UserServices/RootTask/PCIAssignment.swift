import KernelABI
import ManifestFormat
import PCIBus

/// What the root task grants a component for its PCI devices (on top of its manifest grants): the devices as found
/// on the bus, their I/O BARs as port ranges, their memory BARs as MMIO ranges, their INTx lines.
public struct PCIGrant: Equatable, Sendable {
    public var functions: [PCIFunction] = []
    public var ports: [PortRange] = []
    public var mmio: [MMIORange] = []
    public var interrupts: [UInt64] = []
    public init() {}
}

/// Matches every component's `pci_devices` against the functions on the bus, once, before any component starts
/// (afterwards the configuration ports belong to the PCI driver alone). A device not present, found twice, or
/// whose resources collide with another grant fails that component only: the others still start.
public enum PCIAssignment {
    /// The ports the PCI driver (the provider of a service of kind "pci") gets for the configuration mechanism.
    public static let configurationPorts = PortRange(first: 0xcf8, count: 8)
    public static let serviceKind = ManifestString("pci")

    /// Per component: its grant (empty without devices), or why it cannot have its devices.
    public static func resolve(_ system: SystemDescription, bus: [PCIFunction]) -> [Result<PCIGrant, PCIAssignmentError>] {
        var taken: [(address: PCIAddress, component: Int)] = []
        var claimedPorts: [(range: PortRange, owner: String)] = []
        var claimedLines: [(irq: UInt64, owner: String)] = []
        for c in system.components {
            for p in c.ioPorts { claimedPorts.append((p, c.name.description)) }
            for irq in c.interrupts { claimedLines.append((irq, c.name.description)) }
        }
        var result: [Result<PCIGrant, PCIAssignmentError>] = []
        for (index, c) in system.components.enumerated() {
            let name = c.name.description
            guard !c.pciDevices.isEmpty else { result.append(.success(PCIGrant())); continue }
            guard c.pciDevices.count <= PCIClientTable.maxDevices else {
                result.append(.failure(.tooManyDevices(component: name, count: c.pciDevices.count)))
                continue
            }
            var grant = PCIGrant()
            var failure: PCIAssignmentError?
            for selector in c.pciDevices where failure == nil {
                guard let f = PCIEnumeration.find(selector, in: bus, taken: taken.map { $0.address }) else {
                    // By IDs, every such device may be someone else's already.
                    if let f = PCIEnumeration.find(selector, in: bus), let owner = taken.first(where: { $0.address == f.address }) {
                        failure = .assignedTwice(component: name, device: selector, address: f.address,
                                                 owner: system.components[owner.component].name.description)
                    } else {
                        failure = .notPresent(component: name, device: selector, bus: bus.map { $0.description })
                    }
                    break
                }
                if let owner = taken.first(where: { $0.address == f.address }) {
                    failure = .assignedTwice(component: name, device: selector, address: f.address,
                                             owner: system.components[owner.component].name.description)
                    break
                }
                for bar in f.bars {
                    if bar.isIO {
                        let range = PortRange(first: bar.base, count: bar.size)
                        guard range.isValid else { failure = .badBAR(component: name, address: f.address, bar: bar.index); break }
                        if let other = claimedPorts.first(where: { $0.range.overlaps(range) }) {
                            failure = .portConflict(component: name, address: f.address, bar: bar.index, owner: other.owner)
                            break
                        }
                        grant.ports.append(range)
                    } else {
                        // Page granular: a BAR smaller than a page is granted its whole page.
                        let base = bar.base & ~(SystemDescription.pageSize - 1)
                        let end = (bar.end &+ SystemDescription.pageSize &- 1) & ~(SystemDescription.pageSize - 1)
                        let range = MMIORange(base: base, size: end &- base)
                        guard end > base, range.isValid else { failure = .badBAR(component: name, address: f.address, bar: bar.index); break }
                        grant.mmio.append(range)
                    }
                }
                if failure != nil { break }
                if let irq = f.legacyInterrupt {
                    guard irq < system.interruptCount else {
                        failure = .interruptMissing(component: name, address: f.address, irq: irq, count: system.interruptCount)
                        break
                    }
                    if let other = claimedLines.first(where: { $0.irq == irq }) {
                        failure = .interruptConflict(component: name, address: f.address, irq: irq, owner: other.owner)
                        break
                    }
                    grant.interrupts.append(irq)
                }
                grant.functions.append(f)
            }
            if let failure {
                result.append(.failure(failure))
                continue
            }
            // Claimed only once the whole grant holds: a failed component leaves its devices to others.
            for f in grant.functions { taken.append((f.address, index)) }
            for p in grant.ports { claimedPorts.append((p, name)) }
            for irq in grant.interrupts { claimedLines.append((irq, name)) }
            result.append(.success(grant))
        }
        return result
    }
}

/// Why a component cannot have the PCI devices its manifest entry names; the root task prints it and does not
/// start that component.
public enum PCIAssignmentError: Error, Equatable, Sendable, CustomStringConvertible {
    case notPresent(component: String, device: PCIDeviceSelector, bus: [String])
    case assignedTwice(component: String, device: PCIDeviceSelector, address: PCIAddress, owner: String)
    case tooManyDevices(component: String, count: Int)
    case badBAR(component: String, address: PCIAddress, bar: Int)
    case portConflict(component: String, address: PCIAddress, bar: Int, owner: String)
    case interruptConflict(component: String, address: PCIAddress, irq: UInt64, owner: String)
    case interruptMissing(component: String, address: PCIAddress, irq: UInt64, count: UInt64)
    case tooManyClients(provider: String, count: Int)
    case tooManyMessageInterrupts(component: String, count: Int)
    /// The kernel did not give the message of message interrupt `irq` (assign_int's status).
    case messageUnavailable(component: String, irq: UInt64, Status)

    public var description: String {
        switch self {
        case let .notPresent(component, device, bus):
            return "component \(component): PCI device \(device) is not present (the bus has " +
                (bus.isEmpty ? "no devices" : PCIAssignmentError.join(bus)) + ")"
        case let .assignedTwice(component, device, address, owner):
            return "component \(component): PCI device \(device) is \(address), already assigned to \(owner)"
        case let .tooManyDevices(component, count):
            return "component \(component): \(count) PCI devices, at most \(PCIClientTable.maxDevices)"
        case let .badBAR(component, address, bar):
            return "component \(component): PCI device \(address) BAR \(bar) lies outside what can be granted"
        case let .portConflict(component, address, bar, owner):
            return "component \(component): PCI device \(address) BAR \(bar) overlaps I/O ports granted to \(owner)"
        case let .interruptConflict(component, address, irq, owner):
            return "component \(component): PCI device \(address) interrupts on irq \(irq), which \(owner) already has"
        case let .interruptMissing(component, address, irq, count):
            return "component \(component): PCI device \(address) interrupts on irq \(irq), but the manifest's machine has \(count) lines"
        case let .tooManyClients(provider, count):
            return "component \(provider): \(count) clients of its pci service, at most \(PCIClientTable.maxClients)"
        case let .tooManyMessageInterrupts(component, count):
            return "component \(component): \(count) message interrupts with PCI devices, at most \(PCIClientTable.maxMessages)"
        case let .messageUnavailable(component, irq, status):
            return "component \(component): the kernel gave no MSI message for interrupt \(irq): \(status)"
        }
    }

    static func join(_ items: [String]) -> String {
        var text = ""
        for (i, item) in items.enumerated() { text += (i == 0 ? "" : ", ") + item }
        return text
    }
}
