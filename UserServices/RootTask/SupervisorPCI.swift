import BootFormat
import KernelABI
import ManifestFormat
import PCIBus
import UserRuntime

/// PCI devices: found on the bus once at boot, granted with the component (ports, MMIO, INTx line on top of its
/// manifest grants), and the PCI driver's per-client portals (one per component using its `pci` service).
extension Supervisor {
    /// Scans the bus (only when some component names a device) and decides every component's PCI grant, claiming
    /// its MMIO BARs as device memory; a BAR the kernel refuses is left out, saying so. The PCI driver's
    /// configuration window is claimed first.
    func resolvePCIDevices() {
        pciGrants = system.components.map { _ in .success(PCIGrant()) }
        if system.components.indices.contains(where: { providesPCI($0) }) { pciWindow = claimConfigurationWindow() }
        guard system.components.contains(where: { !$0.pciDevices.isEmpty }) else { return }
        let bus = PCIEnumeration.scan(PortConfigAccess(platform: platform))
        console.line("root: PCI bus: \(bus.count) functions" + bus.reduce("") { $0 + ", " + $1.description })
        pciGrants = PCIAssignment.resolve(system, bus: bus)
        for index in pciGrants.indices {
            guard case .success(var grant) = pciGrants[index] else { continue }
            for f in grant.functions {
                console.line("root: \(name(index)) gets PCI device \(f.description)" +
                             (f.legacyInterrupt.map { ", irq \($0)" } ?? ", no interrupt line") +
                             f.bars.reduce("") { $0 + ", BAR \($1.index) \($1.isIO ? "ports" : "MMIO") 0x\(PCIText.hex($1.base))+0x\(PCIText.hex($1.size))" })
            }
            // The MSI-X tables go to the PCI driver, not to the device's driver: whoever writes them picks the
            // device's messages (without interrupt remapping, any vector).
            for f in grant.functions {
                guard let msix = PCIMSIX.find(PortConfigAccess(platform: platform), f.address) else { continue }
                for page in msix.pages(of: f) {
                    let table = MMIORange(base: page.base, size: page.size)
                    grant.mmio = grant.mmio.flatMap { $0.subtracting(table) }
                    msixTables.append(table)
                    console.line("root: \(name(index)): MSI-X table of PCI device \(f.address) at " +
                                 "0x\(PCIText.hex(page.base))+0x\(PCIText.hex(page.size)) stays with the PCI driver")
                }
            }
            grant.mmio = grant.mmio.filter { range in
                guard let refused = claimDeviceMemory(range) else { return true }
                console.line("root: \(name(index)): MMIO 0x\(PCIText.hex(range.base))+0x\(PCIText.hex(range.size)) not granted: " +
                             "the kernel does not let the root claim it as device memory (\(refused))")
                return false
            }
            pciGrants[index] = .success(grant)
            learnMessages(index)
        }
    }

    /// The messages of the component's message interrupts, for the PCI driver to program (enableMSI): assigned
    /// and released at once, before anyone runs (a later assignment returns the same message, ABI.md). Assigned
    /// for the component's first device (the message does not depend on it; the root may name any device), so
    /// with interrupt remapping the entry is present only for this moment, until the driver assigns it itself.
    func learnMessages(_ index: Int) {
        let numbers = system.components[index].interrupts.filter { RootSelectors.isMessage($0) }
        guard !numbers.isEmpty, case .success(let grant) = pciGrants[index], !grant.functions.isEmpty else { return }
        guard numbers.count <= PCIClientTable.maxMessages else {
            pciGrants[index] = .failure(.tooManyMessageInterrupts(component: name(index), count: numbers.count))
            return
        }
        for n in numbers {
            let sm = RootSelectors.interruptBase + n
            let (status, message) = sys.assignMessageInterrupt(sm: sm, number: n,
                                                               requester: UInt64(grant.functions[0].address.routingID))
            guard status == .success else {
                pciGrants[index] = .failure(.messageUnavailable(component: name(index), irq: n, status))
                return
            }
            _ = sys.releaseInterrupt(sm: sm, irq: n)
            messages.removeAll { $0.number == n }
            messages.append(PCIMessageGrant(number: n, message: message))
        }
    }

    /// What the PCI driver's table says of a client's message interrupts.
    func messageGrants(_ index: Int) -> [PCIMessageGrant] {
        let numbers = system.components[index].interrupts
        return messages.filter { numbers.contains($0.number) }
    }

    /// Turns bus mastering off on the component's PCI devices (teardown, before its pages are reused). The PCI
    /// driver may have been preempted between selecting a register and using it: the address register is put back.
    func stopBusMastering(_ index: Int) {
        guard index < pciGrants.count, case .success(let grant) = pciGrants[index], !grant.functions.isEmpty else { return }
        let config = PortConfigAccess(platform: platform)
        config.preservingAddress {
            for f in grant.functions {
                let command = config.read16(f.address, PCIConfig.command)
                config.write16(f.address, PCIConfig.command, command & ~PCIConfig.commandBusMaster)
                let after = config.read16(f.address, PCIConfig.command)
                console.line("root: \(name(index)): bus mastering of PCI device \(f.address) " +
                             (after & PCIConfig.commandBusMaster == 0 ? "off before its pages are reused"
                              : "could not be turned off (command 0x\(PCIText.hex(UInt64(after))))"))
            }
        }
    }

    /// The component with everything it is granted: its manifest entry, its PCI devices' resources, and for the
    /// PCI driver the configuration ports. Grants, the start-info page and teardown all use this.
    func granted(_ index: Int) -> ComponentDescription {
        var c = system.components[index]
        if index < pciGrants.count, case .success(let grant) = pciGrants[index] {
            c.ioPorts += grant.ports
            c.mmio += grant.mmio
            c.interrupts += grant.interrupts
        }
        if providesPCI(index) {
            // The configuration window when there is one (no address register to share), else the ports.
            if let w = pciWindow { c.mmio.append(MMIORange(base: w.range.base, size: w.range.size)) }
            else { c.ioPorts.append(PCIAssignment.configurationPorts) }
            c.mmio += msixTables.filter { claimDeviceMemory($0) == nil }
        }
        return c
    }

    func providesPCI(_ index: Int) -> Bool {
        system.components[index].provides.contains { $0.kind == PCIAssignment.serviceKind }
    }

    /// The components using service `service` of `provider`, in index order: client k is the k-th.
    func clients(of provider: Int, service: Int) -> [Int] {
        system.components.indices.filter { u in
            system.components[u].uses.contains { $0.provider == provider && $0.service == service }
        }
    }

    /// Before a provider starts: its per-client services' landing selectors, portals unregistered.
    func preparePerClientServices(_ index: Int) throws(RootError) {
        let provides = system.components[index].provides
        var record = records[index]
        record.perClient = provides.map { $0.kind == PCIAssignment.serviceKind }
        record.clientPortals = []
        record.clientLandings = []
        for (s, perClient) in record.perClient.enumerated() {
            let users = perClient ? clients(of: index, service: s) : []
            guard users.count <= PCIClientTable.maxClients else {
                throw .pciAssignment(.tooManyClients(provider: name(index), count: users.count))
            }
            var landings: [UInt64] = []
            for _ in users {
                guard let landing = self.landings.allocate() else { throw .outOfSelectors }
                landings.append(landing)
            }
            record.clientLandings.append(landings)
            record.clientPortals.append(landings.map { _ in nil })
        }
        records[index] = record
    }

    /// The PCI driver's client table (`PCIClientTable`), read-only at its fixed address.
    func mapPCIClientTable(_ index: Int) throws(RootError) {
        guard let s = records[index].perClient.firstIndex(of: true) else { return }
        var table: [PCIClientTable.Client] = []
        for (k, user) in clients(of: index, service: s).enumerated() {
            var devices: [PCIFunction] = []
            if case .success(let grant) = pciGrants[user] { devices = grant.functions }
            table.append(PCIClientTable.Client(landing: records[index].clientLandings[s][k], devices: devices,
                                               messages: messageGrants(user)))
        }
        let page = try newPage(index)
        let window = pciWindow.map {
            PCIClientTable.Window(base: CapabilityGrants.mmioWindow + $0.range.base, startBus: $0.startBus, endBus: $0.endBus)
        }
        for (i, w) in PCIClientTable.words(table, window: window).enumerated() {
            platform.store64(AddressLayout.physicalWindow + page + UInt64(i) * 8, w)
        }
        try mapPage(index, physical: page, at: PCIClientTable.address, permissions: Permissions.read)
    }

    /// The portal `user` gets for its route to a per-client service (nil: not registered).
    func clientPortal(provider: Int, service: Int, user: Int) -> UInt64? {
        guard let k = clients(of: provider, service: service).firstIndex(of: user),
              service < records[provider].clientPortals.count, k < records[provider].clientPortals[service].count
        else { return nil }
        return records[provider].clientPortals[service][k]
    }
}
