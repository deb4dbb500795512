import ManifestFormat

/// The order in which the root task starts components: every component after the components it depends on and after
/// the providers of the services it (or a VM it runs) uses. Among ready components the manifest's order wins, so a
/// manifest already in start order (what the compiler writes) is started exactly as written.
public enum StartOrder {
    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        /// `component` refers to a component index that does not exist.
        case unknownComponent(component: Int, reference: Int)
        /// The components in `cycle` wait for each other: none can start.
        case cycle([Int])

        public var description: String {
            switch self {
            case let .unknownComponent(component, reference):
                return "component \(component) depends on component \(reference), which does not exist"
            case let .cycle(members):
                var text = "components wait for each other and cannot start:"
                for m in members { text += " \(m)" }
                return text
            }
        }
    }

    /// The components `index` must wait for (deduplicated, itself excluded).
    public static func prerequisites(of index: Int, in system: SystemDescription) -> [Int] {
        let component = system.components[index]
        var result: [Int] = []
        func add(_ i: Int) { if i != index && !result.contains(i) { result.append(i) } }
        for d in component.dependsOn { add(d) }
        for route in component.uses { add(route.provider) }
        for vm in system.vms(runBy: index) { for route in vm.services { add(route.provider) } }
        return result
    }

    public static func order(_ system: SystemDescription) throws(Failure) -> [Int] {
        let count = system.components.count
        var waitingFor: [[Int]] = []
        for i in 0..<count {
            let prerequisites = prerequisites(of: i, in: system)
            if let bad = prerequisites.first(where: { $0 < 0 || $0 >= count }) {
                throw .unknownComponent(component: i, reference: bad)
            }
            waitingFor.append(prerequisites)
        }
        var started = [Bool](repeating: false, count: count)
        var order: [Int] = []
        while order.count < count {
            guard let next = (0..<count).first(where: { i in
                !started[i] && waitingFor[i].allSatisfy { started[$0] }
            }) else {
                throw .cycle((0..<count).filter { !started[$0] })
            }
            started[next] = true
            order.append(next)
        }
        return order
    }
}
