import KernelABI
import ManifestFormat
import UserRuntime

/// What a component is given: exactly the capabilities the manifest grants (its own PD, event and registration
/// portals, the services it uses, its devices) and its interrupt lines.
extension Supervisor {
    /// Exactly what the manifest grants: its own PD (to create handler ECs and portals), the event portals, the
    /// registration portal if it provides services, the portals of the services it uses, and its devices.
    func delegations(_ index: Int) throws(RootError) -> [Delegation] {
        let component = granted(index)
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
            let perClient = records[route.provider].isPerClient(route.service)
            guard let portal = perClient ? clientPortal(provider: route.provider, service: route.service, user: index)
                : records[route.provider].servicePortals[route.service] else {
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
    /// A message interrupt is left to the component (CapabilityGrants), which assigns it when it programs its
    /// device; the root task still releases it at teardown.
    func assignInterrupts(_ index: Int) throws(RootError) {
        for irq in granted(index).interrupts where !RootSelectors.isMessage(irq) {
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
}
