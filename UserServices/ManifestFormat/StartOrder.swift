/// The start-order rule, written once for the manifest compiler and the root task: a component starts after the
/// components it depends on, after the providers of the services it uses, and (for a VMM) after the providers
/// of its VMs' services, except services the VMM provides itself (a VM may use a console its own VMM serves:
/// that is no cycle, the VMM registers it before it runs the VM). Among ready components the lowest index
/// starts first, so a system already in start order (what the compiler writes) is started exactly as written.
/// Linear in components plus dependencies (times log n for the ready queue).
public enum StartOrder {
    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        /// `component` refers to a component index that does not exist.
        case unknownComponent(component: Int, reference: Int)
        /// The components in `cycle` wait for each other (or for one that does): none can start.
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

    /// Why a component waits for another, by index into what the caller described.
    public enum Cause: Equatable, Sendable {
        /// The component's `dependsOn[entry]`.
        case dependsOn(entry: Int)
        /// The component's `uses[route]`.
        case uses(route: Int)
        /// `services[route]` of a VM the component runs (`vm` indexes the VMs given).
        case vmService(vm: Int, route: Int)
    }

    public struct Dependency: Equatable, Sendable {
        public var on: Int
        public var cause: Cause
    }

    /// A VM as the rule sees it: its VMM and the provider of each of its services (nil: not resolved).
    public struct VMUse: Sendable {
        public var vmm: Int
        public var providers: [Int?]
        public init(vmm: Int, providers: [Int?]) {
            self.vmm = vmm
            self.providers = providers
        }
    }

    /// The rule for one component: its `dependsOn` targets, the providers of its `uses`, and the providers of
    /// the services of the VMs it runs (`vms`: index among the VMs given, and the provider of each service).
    /// Nil entries were not resolved and are skipped.
    public static func dependencies(of component: Int, dependsOn: [Int?], uses: [Int?],
                                    vms: [(index: Int, providers: [Int?])]) -> [Dependency] {
        var list: [Dependency] = []
        for (entry, target) in dependsOn.enumerated() {
            if let target { list.append(Dependency(on: target, cause: .dependsOn(entry: entry))) }
        }
        for (route, provider) in uses.enumerated() {
            if let provider { list.append(Dependency(on: provider, cause: .uses(route: route))) }
        }
        for vm in vms {
            for (route, provider) in vm.providers.enumerated() where provider != component {
                if let provider { list.append(Dependency(on: provider, cause: .vmService(vm: vm.index, route: route))) }
            }
        }
        return list
    }

    /// Every component's dependencies: `dependsOn` and `uses` per component, `vms` per VM.
    public static func dependencies(dependsOn: [[Int?]], uses: [[Int?]], vms: [VMUse]) -> [[Dependency]] {
        var byVMM = [[(index: Int, providers: [Int?])]](repeating: [], count: dependsOn.count)
        for (v, vm) in vms.enumerated() where vm.vmm >= 0 && vm.vmm < byVMM.count {
            byVMM[vm.vmm].append((v, vm.providers))
        }
        return dependsOn.indices.map { i in
            dependencies(of: i, dependsOn: dependsOn[i], uses: i < uses.count ? uses[i] : [], vms: byVMM[i])
        }
    }

    /// The dependencies of the components of `system`.
    public static func dependencies(of system: SystemDescription) -> [[Dependency]] {
        dependencies(dependsOn: system.components.map { c in c.dependsOn.map { Optional($0) } },
                     uses: system.components.map { c in c.uses.map { Optional($0.provider) } },
                     vms: system.vms.map { VMUse(vmm: $0.vmm, providers: $0.services.map { Optional($0.provider) }) })
    }

    /// The components `index` must wait for (deduplicated, itself excluded), for the root task's start loop.
    public static func prerequisites(of index: Int, in system: SystemDescription) -> [Int] {
        let component = system.components[index]
        var vms: [(index: Int, providers: [Int?])] = []
        for (v, vm) in system.vms.enumerated() where vm.vmm == index {
            vms.append((v, vm.services.map { Optional($0.provider) }))
        }
        var result: [Int] = []
        for d in dependencies(of: index, dependsOn: component.dependsOn.map { Optional($0) },
                              uses: component.uses.map { Optional($0.provider) }, vms: vms)
            where d.on != index && !result.contains(d.on) {
            result.append(d.on)
        }
        return result
    }

    public static func order(_ system: SystemDescription) throws(Failure) -> [Int] {
        try order(dependencies(of: system))
    }

    /// Indices in start order: Kahn's algorithm with the lowest ready index first.
    public static func order(_ dependencies: [[Dependency]]) throws(Failure) -> [Int] {
        let count = dependencies.count
        var waiting = [Int](repeating: 0, count: count)
        var dependents = [[Int]](repeating: [], count: count)
        for (i, list) in dependencies.enumerated() {
            for d in list {
                guard d.on >= 0 && d.on < count else { throw .unknownComponent(component: i, reference: d.on) }
                waiting[i] += 1
                dependents[d.on].append(i)
            }
        }
        var ready = MinHeap()
        for i in 0..<count where waiting[i] == 0 { ready.push(i) }
        var order: [Int] = []
        order.reserveCapacity(count)
        while let next = ready.pop() {
            order.append(next)
            for d in dependents[next] {
                waiting[d] -= 1
                if waiting[d] == 0 { ready.push(d) }
            }
        }
        guard order.count == count else { throw .cycle((0..<count).filter { waiting[$0] > 0 }) }
        return order
    }

    /// A binary min-heap of indices.
    struct MinHeap {
        var items: [Int] = []

        mutating func push(_ value: Int) {
            items.append(value)
            var k = items.count - 1
            while k > 0, items[(k - 1) / 2] > items[k] {
                items.swapAt(k, (k - 1) / 2)
                k = (k - 1) / 2
            }
        }

        mutating func pop() -> Int? {
            guard let top = items.first else { return nil }
            let last = items.removeLast()
            if !items.isEmpty {
                items[0] = last
                var k = 0
                while true {
                    let l = 2 * k + 1, r = l + 1
                    var smallest = k
                    if l < items.count, items[l] < items[smallest] { smallest = l }
                    if r < items.count, items[r] < items[smallest] { smallest = r }
                    if smallest == k { break }
                    items.swapAt(k, smallest)
                    k = smallest
                }
            }
            return top
        }
    }
}
