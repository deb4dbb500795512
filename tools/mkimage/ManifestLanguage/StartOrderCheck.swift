import ManifestFormat

/// Applies the start-order rule (`ManifestFormat.StartOrder`, the same code the root task runs) to the
/// declarations: reports unknown `depends_on` targets, and every start-up cycle once, naming each step.
/// Linear in components plus dependencies.
struct StartOrderCheck {
    let components: [ComponentDeclaration]
    let vms: [VMDeclaration]
    let names: ComponentNames
    private(set) var dependencies: [[StartOrder.Dependency]] = []
    private(set) var diagnostics: [Diagnostic] = []

    init(components: [ComponentDeclaration], names: ComponentNames, routes: [[ManifestValidator.ResolvedRoute?]],
         vms: [VMDeclaration], vmms: [Int?], vmRoutes: [[ManifestValidator.ResolvedRoute?]],
         suggestions: KeySuggestion) {
        self.components = components
        self.vms = vms
        self.names = names
        var dependsOn: [[Int?]] = []
        for c in components {
            dependsOn.append(c.dependsOn.map { d in
                guard let j = names.index(of: d.value) else {
                    diagnostics.append(Diagnostic(d.location, "component \(QuotedText.quote(c.name.value)) depends on " +
                        "\(QuotedText.quote(d.value)), which is not a component" +
                        suggestions.hint(for: d.value, in: names.names)))
                    return nil
                }
                return j
            })
        }
        var vmUses: [StartOrder.VMUse] = []
        for (v, vmm) in vmms.enumerated() {
            // VMs without a known VMM start nothing; keep their indices aligned with `vms` by skipping none.
            vmUses.append(StartOrder.VMUse(vmm: vmm ?? -1, providers: vmRoutes[v].map { $0?.provider }))
        }
        dependencies = StartOrder.dependencies(dependsOn: dependsOn, uses: routes.map { $0.map { $0?.provider } },
                                               vms: vmUses)
    }

    /// Declaration indices in start order, or nil (with diagnostics) when there is a cycle.
    mutating func compute() -> [Int]? {
        let cycles = StronglyConnected.components(count: components.count) { dependencies[$0].map { $0.on } }
            .filter { scc in scc.count > 1 || dependencies[scc[0]].contains { $0.on == scc[0] } }
        for scc in cycles { reportCycle(in: scc) }
        guard cycles.isEmpty else { return nil }
        do throws(StartOrder.Failure) {
            return try StartOrder.order(dependencies)
        } catch {
            return nil // no cycle and every index known: cannot happen
        }
    }

    /// "'a' depends on 'b'", and where it was written.
    private func step(from i: Int, _ d: StartOrder.Dependency) -> (reason: String, location: SourceLocation) {
        let c = components[i]
        let from = QuotedText.quote(c.name.value), to = QuotedText.quote(names.names[d.on])
        switch d.cause {
        case .dependsOn(let entry):
            return ("\(from) depends on \(to)", c.dependsOn[entry].location)
        case .uses(let route):
            let use = c.uses[route]
            return ("\(from) uses \(QuotedText.quote(use.name.value)) of \(to)", use.provider?.location ?? use.name.location)
        case .vmService(let v, let route):
            let use = vms[v].services[route]
            return ("\(from) runs VM \(QuotedText.quote(vms[v].name.value)), which uses \(QuotedText.quote(use.name.value)) " +
                    "of \(to)", use.provider?.location ?? use.name.location)
        }
    }

    /// Reports the shortest cycle through the first-declared component of a strongly connected set.
    private mutating func reportCycle(in scc: [Int]) {
        var member = [Bool](repeating: false, count: components.count)
        for i in scc { member[i] = true }
        let start = scc.min()!
        // Breadth-first search back to `start`, remembering how each component was reached.
        var reachedBy = [(from: Int, dependency: StartOrder.Dependency)?](repeating: nil, count: components.count)
        var queue = [start], head = 0
        var closing: (from: Int, dependency: StartOrder.Dependency)?
        search: while head < queue.count {
            let node = queue[head]
            head += 1
            for d in dependencies[node] where member[d.on] {
                if d.on == start {
                    closing = (node, d)
                    break search
                }
                if reachedBy[d.on] == nil {
                    reachedBy[d.on] = (node, d)
                    queue.append(d.on)
                }
            }
        }
        guard let closing else { return }
        var steps = [step(from: closing.from, closing.dependency)]
        var node = closing.from
        while node != start, let edge = reachedBy[node] {
            steps.append(step(from: edge.from, edge.dependency))
            node = edge.from
        }
        steps.reverse()
        diagnostics.append(Diagnostic(steps[0].location, "start-up dependency cycle: " +
            MessageList.join(steps) { $0.reason } + "; remove one of these dependencies"))
    }
}
