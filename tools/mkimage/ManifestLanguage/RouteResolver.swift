/// Finds the provider of every used service. A route may name the provider (and the provider's service); what
/// it leaves out is found by kind, and must then be unambiguous.
struct RouteResolver {
    let components: [ComponentDeclaration]
    private(set) var diagnostics: [Diagnostic] = []

    init(components: [ComponentDeclaration]) { self.components = components }

    /// The provider and service for `route` of `user` ("component 'hello'"), or nil after reporting why not.
    mutating func resolve(_ route: RouteDeclaration, user: String) -> ManifestValidator.ResolvedRoute? {
        let kind = route.kind.value
        guard let provider = route.provider else { return findByKind(route, user: user) }
        guard let p = components.firstIndex(where: { $0.name.value == provider.value }) else {
            report(provider.location, "\(user) routes '\(route.name.value)' to '\(provider.value)', which is not a component" +
                   KeySuggestion.hint(for: provider.value, in: components.map { $0.name.value }))
            return nil
        }
        let offered = components[p].provides
        if let service = route.service {
            guard let s = offered.firstIndex(where: { $0.name.value == service.value }) else {
                report(service.location, "component '\(provider.value)' provides no service '\(service.value)'" +
                       (KeySuggestion.closest(to: service.value, in: offered.map { $0.name.value }).map { "; did you mean '\($0)'?" }
                        ?? "; it provides " + describe(offered)))
                return nil
            }
            guard offered[s].kind.value == kind else {
                report(service.location, "\(user) expects '\(route.name.value)' to be of kind '\(kind)', but " +
                       "'\(provider.value).\(service.value)' is of kind '\(offered[s].kind.value)'; route it to a service of kind '\(kind)'")
                return nil
            }
            return ManifestValidator.ResolvedRoute(provider: p, service: s)
        }
        let matching = offered.indices.filter { offered[$0].kind.value == kind }
        switch matching.count {
        case 1:
            return ManifestValidator.ResolvedRoute(provider: p, service: matching[0])
        case 0:
            report(provider.location, "\(user) routes '\(route.name.value)' (kind '\(kind)') to '\(provider.value)', which " +
                   "provides no service of kind '\(kind)'; it provides " + describe(offered))
        default:
            report(provider.location, "component '\(provider.value)' provides several services of kind '\(kind)' (" +
                   matching.map { "'\(offered[$0].name.value)'" }.joined(separator: ", ") + "); choose one with service = \"...\"")
        }
        return nil
    }

    private mutating func findByKind(_ route: RouteDeclaration, user: String) -> ManifestValidator.ResolvedRoute? {
        let kind = route.kind.value
        var candidates: [ManifestValidator.ResolvedRoute] = []
        for (p, c) in components.enumerated() {
            for (s, offered) in c.provides.enumerated() where offered.kind.value == kind {
                if let wanted = route.service, wanted.value != offered.name.value { continue }
                candidates.append(ManifestValidator.ResolvedRoute(provider: p, service: s))
            }
        }
        switch candidates.count {
        case 1:
            return candidates[0]
        case 0:
            let allKinds = components.flatMap { $0.provides.map { $0.kind.value } }
            report(route.name.location, "\(user) uses '\(route.name.value)' (kind '\(kind)'), which no component provides; " +
                   (KeySuggestion.closest(to: kind, in: allKinds).map { "did you mean kind '\($0)'? Otherwise " } ?? "") +
                   "add a component with a [[component.provides]] of kind '\(kind)'")
        default:
            report(route.name.location, "\(user) uses '\(route.name.value)' (kind '\(kind)'), which several components " +
                   "provide (" + candidates.map { "'\(components[$0.provider].name.value)'" }.joined(separator: ", ") +
                   "); choose one with provider = \"...\"")
        }
        return nil
    }

    private func describe(_ services: [ServiceDeclaration]) -> String {
        services.isEmpty ? "no services" : services.map { "'\($0.name.value)' of kind '\($0.kind.value)'" }.joined(separator: ", ")
    }

    private mutating func report(_ location: SourceLocation, _ message: String) {
        diagnostics.append(Diagnostic(location, message))
    }
}
