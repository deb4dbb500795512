/// Finds the provider of every used service. A route may name the provider (and the provider's service); what
/// it leaves out is found by kind, and must then be unambiguous. Every lookup is a hash lookup, so resolving
/// n routes over m services costs n + m whatever the shape of the manifest.
struct RouteResolver {
    typealias Route = ManifestValidator.ResolvedRoute

    private struct ByName: Hashable {
        var provider: Int
        var name: String
    }

    private struct ByKind: Hashable {
        var provider: Int
        var kind: String
    }

    private struct KindAndName: Hashable {
        var kind: String
        var name: String
    }

    let components: [ComponentDeclaration]
    let names: ComponentNames
    let suggestions: KeySuggestion
    /// Provided services in declaration order: by kind; by kind and name; of one provider by name and by kind.
    private var byKind: [String: [Route]] = [:]
    private var byKindAndName: [KindAndName: [Route]] = [:]
    private var byProviderAndName: [ByName: Int] = [:]
    private var byProviderAndKind: [ByKind: [Int]] = [:]
    /// For suggestions: every kind (sorted), and each component's service names.
    private var kinds: [String] = []
    private var serviceNames: [[String]] = []
    private(set) var diagnostics: [Diagnostic] = []

    init(components: [ComponentDeclaration], names: ComponentNames, suggestions: KeySuggestion) {
        self.components = components
        self.names = names
        self.suggestions = suggestions
        for (p, c) in components.enumerated() {
            for (s, offered) in c.provides.enumerated() {
                let route = Route(provider: p, service: s)
                byKind[offered.kind.value, default: []].append(route)
                byKindAndName[KindAndName(kind: offered.kind.value, name: offered.name.value), default: []].append(route)
                let name = ByName(provider: p, name: offered.name.value)
                if byProviderAndName[name] == nil { byProviderAndName[name] = s }
                byProviderAndKind[ByKind(provider: p, kind: offered.kind.value), default: []].append(s)
            }
            serviceNames.append(c.provides.map { $0.name.value })
        }
        kinds = byKind.keys.sorted()
    }

    /// The provider and service for `route` of `user` ("component 'hello'"), or nil after reporting why not.
    mutating func resolve(_ route: RouteDeclaration, user: @autoclosure () -> String) -> Route? {
        let kind = route.kind.value
        guard let provider = route.provider else { return findByKind(route, user: user()) }
        guard let p = names.index(of: provider.value) else {
            report(provider.location, "\(user()) routes \(QuotedText.quote(route.name.value)) to " +
                   "\(QuotedText.quote(provider.value)), which is not a component" +
                   suggestions.hint(for: provider.value, in: names.names))
            return nil
        }
        let offered = components[p].provides
        if let service = route.service {
            guard let s = byProviderAndName[ByName(provider: p, name: service.value)] else {
                report(service.location, "component \(QuotedText.quote(provider.value)) provides no service " +
                       "\(QuotedText.quote(service.value))" +
                       (suggestions.closest(to: service.value, in: serviceNames[p])
                        .map { "; did you mean \(QuotedText.quote($0))?" } ?? "; it provides " + describe(offered)))
                return nil
            }
            guard offered[s].kind.value == kind else {
                report(service.location, "\(user()) expects \(QuotedText.quote(route.name.value)) to be of kind " +
                       "\(QuotedText.quote(kind)), but \(QuotedText.quote(provider.value + "." + service.value)) is of kind " +
                       "\(QuotedText.quote(offered[s].kind.value)); route it to a service of kind \(QuotedText.quote(kind))")
                return nil
            }
            return Route(provider: p, service: s)
        }
        let matching = byProviderAndKind[ByKind(provider: p, kind: kind)] ?? []
        switch matching.count {
        case 1:
            return Route(provider: p, service: matching[0])
        case 0:
            report(provider.location, "\(user()) routes \(QuotedText.quote(route.name.value)) (kind \(QuotedText.quote(kind))) " +
                   "to \(QuotedText.quote(provider.value)), which provides no service of kind \(QuotedText.quote(kind)); " +
                   "it provides " + describe(offered))
        default:
            report(provider.location, "component \(QuotedText.quote(provider.value)) provides several services of kind " +
                   "\(QuotedText.quote(kind)) (" + MessageList.join(matching) { QuotedText.quote(offered[$0].name.value) } +
                   "); choose one with service = \"...\"")
        }
        return nil
    }

    private mutating func findByKind(_ route: RouteDeclaration, user: @autoclosure () -> String) -> Route? {
        let kind = route.kind.value
        let candidates = route.service.map { byKindAndName[KindAndName(kind: kind, name: $0.value)] ?? [] }
            ?? byKind[kind] ?? []
        switch candidates.count {
        case 1:
            return candidates[0]
        case 0:
            report(route.name.location, "\(user()) uses \(QuotedText.quote(route.name.value)) (kind \(QuotedText.quote(kind))), " +
                   "which no component provides; " +
                   (suggestions.closest(to: kind, in: kinds)
                    .map { "did you mean kind \(QuotedText.quote($0))? Otherwise " } ?? "") +
                   "add a component with a [[component.provides]] of kind \(QuotedText.quote(kind))")
        default:
            report(route.name.location, "\(user()) uses \(QuotedText.quote(route.name.value)) (kind \(QuotedText.quote(kind))), " +
                   "which several components provide (" +
                   MessageList.join(candidates) { QuotedText.quote(components[$0.provider].name.value) } +
                   "); choose one with provider = \"...\"")
        }
        return nil
    }

    private func describe(_ services: [ServiceDeclaration]) -> String {
        services.isEmpty ? "no services" : MessageList.join(services) {
            "\(QuotedText.quote($0.name.value)) of kind \(QuotedText.quote($0.kind.value))"
        }
    }

    private mutating func report(_ location: SourceLocation, _ message: String) {
        diagnostics.append(Diagnostic(location, message))
    }
}
