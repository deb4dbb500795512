import BootFormat
import ELFFormat
import KernelABI
import ManifestFormat
import UserRuntime

/// Builds the system the manifest describes and keeps it running: creates each component, serves service
/// registrations, and handles component faults (report, revoke, restart when the manifest asks for it). All of it
/// runs on the root's main EC; the handler EC only forwards calls through the `Mailbox`.
final class Supervisor<P: UserPlatform> {
    let platform: P
    let sys: SystemCalls<P>
    let console: Console<P>
    let system: SystemDescription
    let bundle: BootBundle
    let bundleBase: UInt64
    let ticksPerMillisecond: UInt64
    /// Where the handler EC's portals enter the root task.
    let handlerEntry: UInt64
    var pages: PageAllocator
    var selectors = SelectorAllocator(first: RootLayout.firstDynamicSelector)
    /// Landing selectors for registered portals, inside the handler's receive window (set up by `prepare`).
    var landings = SelectorAllocator(first: 0, limit: 0)
    var records: [ComponentRecord]

    init(platform: P, system: SystemDescription, bundle: BootBundle, bundleBase: UInt64, ticksPerMillisecond: UInt64,
         handlerEntry: UInt64, pages: PageAllocator) {
        self.platform = platform
        sys = SystemCalls(platform)
        console = Console(platform: platform)
        self.system = system
        self.bundle = bundle
        self.bundleBase = bundleBase
        self.ticksPerMillisecond = ticksPerMillisecond
        self.handlerEntry = handlerEntry
        self.pages = pages
        records = system.components.map { ComponentRecord(servicePortals: [UInt64?](repeating: nil, count: $0.provides.count)) }
    }

    var mailbox: Mailbox<P> { Mailbox(platform: platform, base: RootLayout.mailbox) }

    func name(_ index: Int) -> String { system.components[index].name.description }

    // MARK: start-up

    /// Starts every component in dependency order; a provider's services are registered before its users start.
    func startAll() throws(RootError) {
        let order: [Int]
        do { order = try StartOrder.order(system) } catch { throw .startOrder(error) }
        for index in order {
            let blocking = StartOrder.prerequisites(of: index, in: system).first { records[$0].state != .running }
            if let blocking {
                records[index].state = .failed
                console.line("root: not starting \(name(index)): \(name(blocking)), which it needs, is not running")
                continue
            }
            do throws(RootError) {
                try start(index)
            } catch {
                records[index].state = .failed
                console.line("root: cannot start \(name(index)): \(error)")
                continue
            }
            while records[index].state == .running && !records[index].allServicesRegistered {
                serveOneCall()
            }
        }
    }

    /// Serves calls forever (faults and registrations after start-up).
    func serve() -> Never {
        while true { serveOneCall() }
    }

    func serveOneCall() {
        _ = sys.down(sm: RootLayout.requestSM)
        mailbox.replyStatus = handle(portalID: mailbox.portalID)
        _ = sys.up(sm: RootLayout.doneSM)
    }

    func handle(portalID: UInt64) -> Status {
        let index = RootPortalID.component(portalID)
        guard index < records.count else { return .badSelector }
        let event = RootPortalID.event(portalID)
        if event == RootPortalID.registration { return register(index) }
        handleFault(index, event: event)
        return .aborted
    }

    // MARK: building one component

    func newSelector(order: UInt64 = 0) throws(RootError) -> UInt64 {
        guard let s = selectors.allocate(order: order) else { throw .outOfSelectors }
        return s
    }

    func check(_ status: Status, _ what: @autoclosure () -> String) throws(RootError) {
        guard status == .success else { throw .hypercall(what: what(), status) }
    }

    func start(_ index: Int) throws(RootError) {
        let component = system.components[index]
        let label = name(index)
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
        do throws(RootError) {
            try check(sys.createPD(record.pd, quotaPages: KernelQuota.pages(forComponent: index, in: system)), "creating the PD of \(label)")
            records[index].state = .running
            try load(image, moduleBase: moduleBase, into: index)
            try mapZeroed(index, at: ComponentLayout.stackTop - ComponentLayout.stackPages * AddressLayout.pageSize,
                          count: ComponentLayout.stackPages, permissions: Permissions.read | Permissions.write)
            let heapPages = min(quota - needed, RootLayout.maxHeapPages)
            try mapZeroed(index, at: ComponentLayout.heapBase, count: heapPages,
                          permissions: Permissions.read | Permissions.write)
            try mapStartInfo(index, entry: image.entry, heapPages: heapPages)
            try assignInterrupts(index)
            try delegateCapabilities(index)
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
        if records[index].registrationPortal == nil && !system.components[index].provides.isEmpty {
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
        let component = system.components[index]
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
        for vm in system.vms(runBy: index) {
            let image: ManifestString
            switch vm.image {
            case .kernel(let kernel, _, _): image = kernel
            case .testImage(let test): image = test
            }
            info.vms.append(.init(name: vm.name.bytes, image: image.bytes, memory: vm.memory, vcpus: vm.vcpus,
                                  nested: vm.nested))
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

    /// Exactly what the manifest grants: its own PD (to create handler ECs and portals), the event portals, the
    /// registration portal if it provides services, the portals of the services it uses, and its devices.
    func delegations(_ index: Int) throws(RootError) -> [Delegation] {
        let component = system.components[index]
        let record = records[index]
        var result = [Delegation(source: CapabilityRange(kind: .object, base: record.pd, permissions: Permissions.pdCreate),
                                 destinationBase: ComponentSelectors.ownPD)]
        if let block = record.eventPortals {
            result.append(Delegation(source: CapabilityRange(kind: .object, base: block, order: 5,
                                                             permissions: Permissions.ptCall),
                                     destinationBase: ComponentSelectors.eventBase))
        }
        if let portal = record.registrationPortal {
            result.append(Delegation(source: CapabilityRange(kind: .object, base: portal, permissions: Permissions.ptCall),
                                     destinationBase: ComponentSelectors.registration))
        }
        for (k, route) in component.uses.enumerated() {
            guard let portal = records[route.provider].servicePortals[route.service] else {
                throw .serviceNotRegistered(component: name(index), provider: name(route.provider),
                                            service: route.name.description)
            }
            result.append(Delegation(source: CapabilityRange(kind: .object, base: portal, permissions: Permissions.ptCall),
                                     destinationBase: ComponentSelectors.firstService + UInt64(k)))
        }
        return result + CapabilityGrants.devices(of: component)
    }

    /// Binds each granted line to the root's interrupt semaphore for it (which unmasks the line) before the
    /// semaphore is delegated: without this the kernel drops the line's interrupts and the component never wakes.
    func assignInterrupts(_ index: Int) throws(RootError) {
        for irq in system.components[index].interrupts {
            let status = sys.assignInterrupt(sm: RootSelectors.interruptBase + irq, irq: irq)
            guard status == .success else { throw .interruptAssignment(component: name(index), irq: irq, status) }
        }
    }

    func delegateCapabilities(_ index: Int) throws(RootError) {
        for d in try delegations(index) {
            try check(sys.delegate(pd: records[index].pd, source: d.source, destinationBase: d.destinationBase),
                      "delegating \(kindName(d.source.kind)) \(hex(d.source.base)) to \(name(index))")
        }
    }

    func kindName(_ kind: CapabilityRange.Kind) -> String {
        switch kind {
        case .null: return "nothing"
        case .memory: return "memory page"
        case .io: return "I/O port"
        case .object: return "capability"
        }
    }

    // MARK: registration

    func register(_ provider: Int) -> Status {
        let serviceID = mailbox.data(0)
        let services = system.components[provider].provides
        let landed = mailbox.firstTypedItem
        guard mailbox.untypedCount >= 1, serviceID < UInt64(records[provider].landings.count) else {
            if let landed { _ = sys.revoke(landed, includeSelf: true) }
            console.line("root: \(name(provider)) tried to register unknown service id \(serviceID)")
            return .badRange
        }
        let service = Int(serviceID)
        let received = records[provider].landings[service]
        if let landed, landed.base != received || landed.kind != .object || landed.order != 0 {
            // It landed somewhere else in the window (perhaps another provider's slot): take it back.
            _ = sys.revoke(landed, includeSelf: true)
            console.line("root: \(name(provider)) registered service \(services[service].name) at the wrong selector")
            return .badRange
        }
        guard records[provider].servicePortals[service] == nil else {
            // (A second portal cannot have landed: the kernel refuses an occupied landing selector.)
            console.line("root: \(name(provider)) registered service \(services[service].name) twice")
            return .badState
        }
        let found = sys.lookup(CapabilityRange(kind: .object, base: received, permissions: 0)).found
        guard mailbox.typedCount == 1, let found, found.kind == .object else {
            console.line("root: \(name(provider)) registered service \(services[service].name) without a portal")
            return .badSelector
        }
        records[provider].servicePortals[service] = received
        console.line("root: \(name(provider)) registered service \(services[service].name)")
        reconnectUsers(of: provider, service: service)
        return .success
    }

    /// After a provider restarted, its running users still hold the dead portal's (now empty) slot: give them the
    /// new portal at the same selector.
    func reconnectUsers(of provider: Int, service: Int) {
        guard let portal = records[provider].servicePortals[service] else { return }
        for (user, component) in system.components.enumerated() where records[user].state == .running {
            for (k, route) in component.uses.enumerated() where route.provider == provider && route.service == service {
                let source = CapabilityRange(kind: .object, base: portal, permissions: Permissions.ptCall)
                let status = sys.delegate(pd: records[user].pd, source: source,
                                          destinationBase: ComponentSelectors.firstService + UInt64(k))
                if status == .success {
                    console.line("root: reconnected \(name(user)) to \(name(provider))'s \(route.name)")
                } else {
                    console.line("root: could not reconnect \(name(user)) to \(name(provider))'s \(route.name): \(status)")
                }
            }
        }
    }

    // MARK: faults

    func handleFault(_ index: Int, event: UInt64) {
        let label = name(index)
        let m = mailbox
        console.line("root: \(label) faulted: \(eventName(event)) (vector \(event)), error code \(hex(m.data(FaultMessage.errorCode))), address \(hex(m.data(FaultMessage.faultAddress))), ip \(hex(m.data(FaultMessage.instructionPointer)))")
        teardown(index)
        guard system.components[index].restartOnFault else {
            console.line("root: \(label) stopped (the manifest does not ask for restarts)")
            return
        }
        guard records[index].restarts < RootLayout.maxRestarts else {
            console.line("root: \(label) stopped (restarted \(RootLayout.maxRestarts) times already)")
            return
        }
        records[index].restarts += 1
        console.line("root: restarting \(label) (restart \(records[index].restarts) of \(RootLayout.maxRestarts))")
        do throws(RootError) { try start(index) } catch {
            records[index].state = .failed
            console.line("root: cannot restart \(label): \(error)")
        }
    }

    func eventName(_ event: UInt64) -> String {
        switch event {
        case 0: return "divide error"
        case 3: return "breakpoint"
        case 6: return "invalid opcode"
        case 13: return "general protection fault"
        case 14: return "page fault"
        default: return "exception"
        }
    }

    /// Revokes everything the component was given and frees its pages: it can no longer run or touch anything.
    func teardown(_ index: Int) {
        var record = records[index]
        for s in [record.sc, record.ec, record.pd] {
            _ = sys.revoke(CapabilityRange(kind: .object, base: s, permissions: Permissions.all), includeSelf: true)
        }
        for page in record.pages {
            let window = CapabilityRange(kind: .memory, base: (AddressLayout.physicalWindow + page) >> AddressLayout.pageShift,
                                         permissions: Permissions.memoryAll)
            _ = sys.revoke(window, includeSelf: false)
            pages.free(page)
        }
        for d in CapabilityGrants.devices(of: system.components[index]) { _ = sys.revoke(d.source, includeSelf: false) }
        record.pages = []
        record.servicePortals = record.servicePortals.map { _ in nil }
        record.state = .stopped
        records[index] = record
    }
}
