import BootFormat
import ELFFormat
import KernelABI
import ManifestFormat
import UserRuntime

/// Building one component: its PD, its image loaded page by page, stack, heap and start-info page, its interrupts
/// and capabilities (SupervisorGrants.swift), then its EC and SC. A failure tears down what was built.
extension Supervisor {
    func start(_ index: Int) throws(RootError) {
        let component = system.components[index]
        let label = name(index)
        if index < pciGrants.count, case .failure(let error) = pciGrants[index] { throw .pciAssignment(error) }
        guard let module = bundle.entry(named: component.binary.description) else {
            throw .missingModule(name: component.binary.description, what: "component \(label)")
        }
        let moduleBase = bundleBase + module.offset
        let image: ELFImage
        do {
            image = try ELFImage(size: module.size) { platform.load8(moduleBase + $0) }
            try image.checkSegments(within: AddressLayout.userBase, ComponentLayout.imageLimit)
        } catch {
            throw .badBinary(component: label, binary: component.binary.description, error)
        }
        var imagePages: UInt64 = 0
        for s in image.segments { imagePages += s.pageCount }
        let quota = component.memory / AddressLayout.pageSize
        let needed = imagePages + ComponentLayout.stackPages + 1
        guard needed <= quota else { throw .quotaTooSmall(component: label, neededPages: needed, quotaPages: quota) }

        try ensurePortals(index)
        var record = records[index]
        record.pd = try newSelector()
        record.ec = try newSelector()
        record.sc = try newSelector()
        record.pages = []
        record.landings = []
        for _ in component.provides {
            guard let landing = landings.allocate() else { throw .outOfSelectors }
            record.landings.append(landing)
        }
        records[index] = record
        try preparePerClientServices(index)
        do throws(RootError) {
            // Only a VMM gets the own right to make VM PDs.
            let rights = component.isVMM ? Permissions.all : Permissions.all & ~Permissions.pdVM
            try check(sys.createPD(record.pd, quotaPages: KernelQuota.pages(forComponent: index, in: system),
                                   permissionsForCreator: rights), "creating the PD of \(label)")
            records[index].state = .running
            try load(image, moduleBase: moduleBase, into: index)
            try mapZeroed(index, at: ComponentLayout.stackTop - ComponentLayout.stackPages * AddressLayout.pageSize,
                          count: ComponentLayout.stackPages, permissions: Permissions.read | Permissions.write)
            let heapPages = min(quota - needed, RootLayout.maxHeapPages)
            try mapZeroed(index, at: ComponentLayout.heapBase, count: heapPages,
                          permissions: Permissions.read | Permissions.write)
            // VM grants first: the start info says where they landed.
            try grantVMs(index)
            try mapStartInfo(index, entry: image.entry, heapPages: heapPages)
            try mapPCIClientTable(index)
            try assignInterrupts(index)
            try delegateCapabilities(index)
            try bindDevices(index)
            try check(sys.createEC(record.ec, pd: record.pd, utcb: ComponentLayout.utcb,
                                   stackPointer: ComponentLayout.stackTop, entry: image.entry, global: true,
                                   eventBase: ComponentSelectors.eventBase), "creating the EC of \(label)")
            try check(sys.createSC(record.sc, ec: record.ec, priority: component.priority,
                                   budget: component.budgetMilliseconds * ticksPerMillisecond),
                      "creating the SC of \(label)")
        } catch {
            teardown(index)
            throw error
        }
        console.line("root: started \(label) (binary \(component.binary), priority \(component.priority), budget \(component.budgetMilliseconds) ms, \(records[index].pages.count) pages)")
    }

    /// Creates the component's event portals (and registration portal) on the handler EC, once per component.
    func ensurePortals(_ index: Int) throws(RootError) {
        if records[index].eventPortals == nil {
            let block = try newSelector(order: 5)
            for event in 0..<Event.startup {
                try check(sys.createPT(block + event, ec: RootLayout.handlerEC, entry: handlerEntry,
                                       portalID: RootPortalID.make(component: index, event: event)),
                          "creating event portal \(event) of \(name(index))")
            }
            records[index].eventPortals = block
        }
        // Providers register their services through it, VMMs report their VMs' ends (VMEndReport).
        let component = system.components[index]
        if records[index].registrationPortal == nil && (!component.provides.isEmpty || component.isVMM) {
            let portal = try newSelector()
            try check(sys.createPT(portal, ec: RootLayout.handlerEC, entry: handlerEntry,
                                   portalID: RootPortalID.make(component: index, event: RootPortalID.registration)),
                      "creating the registration portal of \(name(index))")
            records[index].registrationPortal = portal
        }
    }

    /// A fresh page in the root's physical window, zeroed, recorded as the component's.
    func newPage(_ index: Int) throws(RootError) -> UInt64 {
        guard let page = pages.allocate() else { throw .outOfMemory(component: name(index)) }
        records[index].pages.append(page)
        let window = AddressLayout.physicalWindow + page
        for w in 0..<(AddressLayout.pageSize / 8) { platform.store64(window + w * 8, 0) }
        return page
    }

    func mapPage(_ index: Int, physical: UInt64, at virtual: UInt64, permissions: UInt64) throws(RootError) {
        let source = CapabilityRange(kind: .memory, base: (AddressLayout.physicalWindow + physical) >> AddressLayout.pageShift,
                                     order: 0, permissions: permissions)
        try check(sys.delegate(pd: records[index].pd, source: source, destinationBase: virtual >> AddressLayout.pageShift),
                  "mapping \(hex(virtual)) into \(name(index))")
    }

    func mapZeroed(_ index: Int, at base: UInt64, count: UInt64, permissions: UInt64) throws(RootError) {
        for i in 0..<count {
            try mapPage(index, physical: try newPage(index), at: base + i * AddressLayout.pageSize, permissions: permissions)
        }
    }

    /// Copies each PT_LOAD segment page by page into fresh pages and maps them with the segment's permissions.
    func load(_ image: ELFImage, moduleBase: UInt64, into index: Int) throws(RootError) {
        for segment in image.segments {
            var permissions: UInt64 = Permissions.read
            if segment.writable { permissions |= Permissions.write }
            if segment.executable { permissions |= Permissions.execute }
            for p in 0..<segment.pageCount {
                let virtual = segment.firstPage + p * AddressLayout.pageSize
                let page = try newPage(index)
                let window = AddressLayout.physicalWindow + page
                for w in 0..<(AddressLayout.pageSize / 8) {
                    var word: UInt64 = 0
                    for b in 0..<UInt64(8) {
                        if let offset = segment.fileOffset(ofVirtual: virtual + w * 8 + b) {
                            word |= UInt64(platform.load8(moduleBase + offset)) << (8 * b)
                        }
                    }
                    if word != 0 { platform.store64(window + w * 8, word) }
                }
                try mapPage(index, physical: page, at: virtual, permissions: permissions)
            }
        }
    }

    func startInfo(_ index: Int, entry: UInt64, heapPages: UInt64) -> ComponentStartInfo {
        let component = granted(index)
        var info = ComponentStartInfo(name: component.name.bytes, entry: entry, heapBase: ComponentLayout.heapBase,
                                      heapSize: heapPages * AddressLayout.pageSize,
                                      ticksPerMillisecond: ticksPerMillisecond)
        for (k, route) in component.uses.enumerated() {
            info.uses.append(.init(name: route.name.bytes, portal: ComponentSelectors.firstService + UInt64(k)))
        }
        for (s, service) in component.provides.enumerated() {
            info.provides.append(.init(name: service.name.bytes, landing: records[index].landings[s]))
        }
        info.ports = component.ioPorts.map { .init(first: $0.first, count: $0.count) }
        info.mmio = component.mmio.map {
            .init(physicalBase: $0.base, size: $0.size, virtualAddress: CapabilityGrants.mmioWindow + $0.base)
        }
        for (k, irq) in component.interrupts.enumerated() {
            info.interrupts.append(.init(irq: irq, semaphore: ComponentSelectors.firstInterrupt + UInt64(k)))
        }
        info.vms = virtualMachines(runBy: index)
        if dmaRemapping, index < pciGrants.count, case .success(let grant) = pciGrants[index] {
            info.dmaTranslated = !grant.functions.isEmpty // bound before it runs (bindDevices)
        }
        return info
    }

    func mapStartInfo(_ index: Int, entry: UInt64, heapPages: UInt64) throws(RootError) {
        let words: [UInt64]
        do { words = try startInfo(index, entry: entry, heapPages: heapPages).words() } catch {
            throw .startInfo(component: name(index), error)
        }
        let page = try newPage(index)
        for (i, w) in words.enumerated() { platform.store64(AddressLayout.physicalWindow + page + UInt64(i) * 8, w) }
        try mapPage(index, physical: page, at: ComponentLayout.startInfo, permissions: Permissions.read)
    }
}
