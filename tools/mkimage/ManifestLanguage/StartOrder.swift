/// The order in which the root task starts components: every component after what it depends on, after the
/// providers of the services it uses, and (for a VMM) after the providers of its VMs' services. Among
/// components that are ready at the same time, declaration order decides, so the order is stable.
/// A cycle makes an order impossible; each cycle is reported once, naming every step.
struct StartOrder {
    struct Edge {
        var to: Int
        /// "'a' depends on 'b'", for the cycle message.
        var reason: String
        var location: SourceLocation
    }

    let names: [String]
    private(set) var edges: [[Edge]]
    private(set) var diagnostics: [Diagnostic] = []

    init(components: [ComponentDeclaration], routes: [[ManifestValidator.ResolvedRoute?]], vms: [VMDeclaration],
         vmms: [Int?], vmRoutes: [[ManifestValidator.ResolvedRoute?]]) {
        names = components.map { $0.name.value }
        edges = Array(repeating: [], count: components.count)
        for (i, c) in components.enumerated() {
            for d in c.dependsOn {
                guard let j = names.firstIndex(of: d.value) else {
                    diagnostics.append(Diagnostic(d.location, "component '\(c.name.value)' depends on '\(d.value)', " +
                        "which is not a component" + KeySuggestion.hint(for: d.value, in: names)))
                    continue
                }
                edges[i].append(Edge(to: j, reason: "'\(c.name.value)' depends on '\(d.value)'", location: d.location))
            }
            for (use, route) in zip(c.uses, routes[i]) {
                guard let route else { continue }
                edges[i].append(Edge(to: route.provider, reason: "'\(c.name.value)' uses '\(use.name.value)' of '\(names[route.provider])'",
                                     location: use.provider?.location ?? use.name.location))
            }
        }
        for (v, vm) in vms.enumerated() {
            guard let vmm = vmms[v] else { continue }
            for (use, route) in zip(vm.services, vmRoutes[v]) {
                guard let route else { continue }
                edges[vmm].append(Edge(to: route.provider, reason: "'\(names[vmm])' runs VM '\(vm.name.value)', which uses " +
                                       "'\(use.name.value)' of '\(names[route.provider])'",
                                       location: use.provider?.location ?? use.name.location))
            }
        }
    }

    /// Declaration indices in start order, or nil (with diagnostics) when there is a cycle.
    mutating func compute() -> [Int]? {
        let cycles = StronglyConnected.components(count: names.count) { edges[$0].map { $0.to } }
            .filter { scc in scc.count > 1 || edges[scc[0]].contains { $0.to == scc[0] } }
        for scc in cycles { reportCycle(in: scc) }
        guard cycles.isEmpty else { return nil }

        var placed = Array(repeating: false, count: names.count)
        var order: [Int] = []
        while order.count < names.count {
            // There is no cycle, so some component always has all it needs.
            guard let next = names.indices.first(where: { i in !placed[i] && edges[i].allSatisfy { placed[$0.to] } }) else {
                return nil
            }
            placed[next] = true
            order.append(next)
        }
        return order
    }

    /// Reports the shortest cycle through the first-declared component of a strongly connected set.
    private mutating func reportCycle(in scc: [Int]) {
        let members = Set(scc)
        let start = scc.min()!
        // Breadth-first search back to `start`, remembering how each component was reached.
        var reachedBy: [Int: Edge] = [:]
        var previous: [Int: Int] = [:]
        var queue = [start]
        var found: Int?
        search: while !queue.isEmpty {
            let node = queue.removeFirst()
            for edge in edges[node] where members.contains(edge.to) {
                if edge.to == start {
                    reachedBy[-1] = edge
                    found = node
                    break search
                }
                if previous[edge.to] == nil {
                    previous[edge.to] = node
                    reachedBy[edge.to] = edge
                    queue.append(edge.to)
                }
            }
        }
        guard let last = found, let closing = reachedBy[-1] else { return }
        var steps = [closing]
        var node = last
        while node != start, let edge = reachedBy[node], let from = previous[node] {
            steps.insert(edge, at: 0)
            node = from
        }
        diagnostics.append(Diagnostic(steps[0].location, "start-up dependency cycle: " +
            steps.map { $0.reason }.joined(separator: ", ") + "; remove one of these dependencies"))
    }
}
