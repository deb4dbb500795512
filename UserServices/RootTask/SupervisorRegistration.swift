import KernelABI
import ManifestFormat
import UserRuntime

/// Service registration: a provider hands the root its service portal; the root records it and reconnects users
/// that already run (after the provider restarted).
extension Supervisor {
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
        if mailbox.untypedCount >= 2 && mailbox.data(1) != 0 || records[provider].isPerClient(service) {
            return registerClientPortal(provider, service: service, landed: landed)
        }
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

    /// A portal of a per-client service (kind "pci"): word 1 is the client's index + 1; the portal goes to that
    /// client alone (now, or when it starts, or again after the provider restarted).
    func registerClientPortal(_ provider: Int, service: Int, landed: CapabilityRange?) -> Status {
        let serviceName = system.components[provider].provides[service].name
        let slot = mailbox.untypedCount >= 2 ? mailbox.data(1) : 0
        guard records[provider].isPerClient(service), slot >= 1,
              slot <= UInt64(records[provider].clientLandings[service].count) else {
            if let landed { _ = sys.revoke(landed, includeSelf: true) }
            let count = records[provider].isPerClient(service) ? records[provider].clientLandings[service].count : 0
            console.line("root: \(name(provider)) registered a portal of service \(serviceName) " +
                         (slot == 0 ? "without the client word (word 1 = client index + 1)" : "for client \(slot - 1)") +
                         ", but it has \(count) clients")
            return .badRange
        }
        let k = Int(slot - 1)
        let received = records[provider].clientLandings[service][k]
        if let landed, landed.base != received || landed.kind != .object || landed.order != 0 {
            _ = sys.revoke(landed, includeSelf: true)
            console.line("root: \(name(provider)) registered client \(k) of service \(serviceName) at the wrong selector")
            return .badRange
        }
        guard records[provider].clientPortals[service][k] == nil else {
            console.line("root: \(name(provider)) registered client \(k) of service \(serviceName) twice")
            return .badState
        }
        let found = sys.lookup(CapabilityRange(kind: .object, base: received, permissions: 0)).found
        guard mailbox.typedCount == 1, let found, found.kind == .object else {
            console.line("root: \(name(provider)) registered client \(k) of service \(serviceName) without a portal")
            return .badSelector
        }
        records[provider].clientPortals[service][k] = received
        let user = clients(of: provider, service: service)[k]
        console.line("root: \(name(provider)) registered service \(serviceName) for \(name(user))")
        if records[user].state == .running {
            for (u, route) in system.components[user].uses.enumerated() where route.provider == provider && route.service == service {
                let source = CapabilityRange(kind: .object, base: received, permissions: Permissions.ptCall)
                let status = sys.delegate(pd: records[user].pd, source: source,
                                          destinationBase: ComponentSelectors.firstService + UInt64(u))
                console.line(status == .success ? "root: reconnected \(name(user)) to \(name(provider))'s \(route.name)"
                             : "root: could not reconnect \(name(user)) to \(name(provider))'s \(route.name): \(status)")
            }
        }
        return .success
    }
}
