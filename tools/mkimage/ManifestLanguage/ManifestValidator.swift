import ManifestFormat

/// The semantic checks of a manifest, run after the schema: names, numbers, binaries, routes, device resources,
/// memory, VMs and start-up order. Every problem is reported; nothing stops at the first one.
struct ManifestValidator {
    /// What the checks worked out, for the compiler. Only complete when there were no diagnostics.
    struct Resolution {
        var machineMemory: UInt64
        var interruptCount: UInt64
        /// Per component, per `uses` entry; per VM, per `services` entry.
        var componentRoutes: [[ResolvedRoute?]] = []
        var vmRoutes: [[ResolvedRoute?]] = []
        /// Per VM, the declaration index of its VMM.
        var vmms: [Int?] = []
        /// Declaration indices of the components in start order (nil when there is a cycle).
        var startOrder: [Int]?
    }

    struct ResolvedRoute {
        var provider: Int
        var service: Int
    }

    let machineMemory: UInt64
    let binaryExists: (String) -> Bool
    let suggestions: KeySuggestion
    private(set) var diagnostics: [Diagnostic] = []

    init(machineMemory: UInt64, binaryExists: @escaping (String) -> Bool, suggestions: KeySuggestion) {
        self.machineMemory = machineMemory
        self.binaryExists = binaryExists
        self.suggestions = suggestions
    }

    /// With `checkReferences` false (the declarations are known to be incomplete), routes, dependencies, VMMs and
    /// the start order are not checked: they would report misspelt things as missing.
    mutating func validate(_ d: ManifestDeclarations, checkReferences: Bool) -> Resolution {
        var r = Resolution(machineMemory: machine(d.machine),
                           interruptCount: d.machine.interrupts.map { $0.value } ?? ManifestSchema.defaultInterruptCount)
        if let n = d.machine.interrupts, !(1...SystemDescription.maxInterruptCount).contains(n.value) {
            report(n.location, "[machine] interrupts must be between 1 and \(SystemDescription.maxInterruptCount), not \(n.value)")
            r.interruptCount = ManifestSchema.defaultInterruptCount
        }
        checkUnique(d.components.map { $0.name }, what: "component name")
        checkUnique(d.vms.map { $0.name }, what: "VM name")
        for c in d.components { component(c, interruptCount: r.interruptCount) }

        diagnostics += ResourceConflicts.check(d.components)
        onePCIDriver(d.components)
        memory(d, limit: r.machineMemory)
        for vm in d.vms { self.vm(vm) }
        guard checkReferences else { return r }

        let names = ComponentNames(d.components)
        let vmmNames = d.components.filter { $0.isVMM }.map { $0.name.value }
        var resolver = RouteResolver(components: d.components, names: names, suggestions: suggestions)
        r.componentRoutes = d.components.map { c in c.uses.map { resolver.resolve($0, user: "component \(QuotedText.quote(c.name.value))") } }
        for vm in d.vms {
            r.vmms.append(vmm(of: vm, in: d.components, names: names, vmms: vmmNames))
            r.vmRoutes.append(vm.services.map { resolver.resolve($0, user: "VM \(QuotedText.quote(vm.name.value))") })
        }
        diskServices(d, vmms: r.vmms)
        diagnostics += resolver.diagnostics

        var order = StartOrderCheck(components: d.components, names: names, routes: r.componentRoutes, vms: d.vms,
                                    vmms: r.vmms, vmRoutes: r.vmRoutes, suggestions: suggestions)
        r.startOrder = order.compute()
        diagnostics += order.diagnostics
        return r
    }

    // MARK: machine

    /// The memory limit: `[machine] memory` if given (it may not exceed the target), else the target's.
    private mutating func machine(_ m: MachineDeclaration) -> UInt64 {
        guard let memory = m.memory else { return machineMemory }
        if memory.value == 0 || memory.value % SystemDescription.pageSize != 0 {
            report(memory.location, "[machine] memory must be a non-zero multiple of 4K, not \(SizeText.bytes(memory.value))")
        }
        if memory.value > machineMemory {
            report(memory.location, "[machine] memory \(SizeText.bytes(memory.value)) is more than the " +
                   "\(SizeText.bytes(machineMemory)) the target machine has; use at most \(SizeText.bytes(machineMemory))")
            return machineMemory
        }
        return memory.value
    }

    // MARK: components

    private mutating func component(_ c: ComponentDeclaration, interruptCount: UInt64) {
        // Messages name the component; built only for a message (most components have none).
        let componentName = c.name.value
        var who: String { "component \(QuotedText.quote(componentName))" }
        name(c.name, what: "component name")
        if let binary = c.binary { self.binary(binary, "binary", of: who) }
        if let memory = c.memory { quota(memory, what: "memory quota of \(who)") }
        if let p = c.priority, !SystemDescription.priorities.contains(p.value) {
            report(p.location, "priority \(p.value) of \(who) is out of range; use 1 (lowest) to 255 (highest)")
        }
        if let b = c.budget, !SystemDescription.budgets.contains(b.value) {
            report(b.location, "budget_ms \(b.value) of \(who) is out of range; use 1 to 1000 milliseconds")
        }
        for p in c.ioPorts {
            let range = PortRange(first: p.value.start, count: p.value.size)
            if p.value.size == 0 {
                report(p.location, "I/O port range [\(SizeText.hex(p.value.start)), 0] of \(who) is empty; the second number is the count of ports")
            } else if !range.isValid {
                report(p.location, "I/O port range \(SizeText.range(p.value.start, p.value.size)) of \(who) goes past port 0xffff")
            }
        }
        for m in c.mmio where !MMIORange(base: m.value.start, size: m.value.size).isValid {
            let written = "MMIO range [\(SizeText.hex(m.value.start)), \(SizeText.hex(m.value.size))] of \(who)"
            if m.value.size == 0 {
                report(m.location, "\(written) is empty; the second number is the size in bytes")
            } else if m.value.size > UInt64.max - m.value.start {
                report(m.location, "\(written) runs past the end of the 64-bit address space")
            } else {
                report(m.location, "\(written) must have a page-aligned (4K) base and a page-multiple size")
            }
        }
        for irq in c.interrupts where irq.value >= interruptCount {
            report(irq.location, "interrupt \(irq.value) of \(who) does not exist; the machine has interrupts 0 to \(interruptCount - 1)")
        }
        for device in c.pciDevices {
            if case .failure(let why) = PCIDeviceSelector.parse(device.value) {
                report(device.location, "PCI device \(QuotedText.quote(device.value)) of \(who) is malformed: \(why); write " +
                       "vendor:device in hex (e.g. \"1af4:1001\") or bus:device.function (e.g. \"00:03.0\")")
            }
        }
        // A component holding the configuration ports itself (a device test) reaches configuration space directly.
        let holdsConfigurationPorts = c.ioPorts.contains { $0.value.start <= 0xcf8 && $0.value.start + $0.value.size >= 0xd00 }
        if let first = c.pciDevices.first, !holdsConfigurationPorts,
           !c.uses.contains(where: { $0.kind.value == ManifestSchema.pciServiceKind }) {
            report(first.location, "\(who) is assigned PCI devices but uses no service of kind \"pci\", through which it " +
                   "reaches their configuration space; add [[component.uses]] name = \"pci\" (provided by the PCI driver), or hold ports 0xCF8-0xCFF")
        }
        for s in c.provides {
            name(s.name, what: "service name")
            name(s.kind, what: "service kind")
        }
        checkUnique(c.provides.map { $0.name }, what: "service name in \(who)'s provides")
        for u in c.uses {
            name(u.name, what: "service name")
            name(u.kind, what: "service kind")
        }
        checkUnique(c.uses.map { $0.name }, what: "service name in \(who)'s uses")
        checkUnique(c.dependsOn, what: "entry in \(who)'s depends_on")
    }

    /// The provider of a "pci" service is given the configuration ports (0xcf8..0xcff): there can be one.
    private mutating func onePCIDriver(_ components: [ComponentDeclaration]) {
        var first: (component: String, location: SourceLocation)?
        for c in components {
            for s in c.provides where s.kind.value == ManifestSchema.pciServiceKind {
                guard let earlier = first else {
                    first = (c.name.value, s.location)
                    continue
                }
                report(s.location, "component \(QuotedText.quote(c.name.value)) provides a second service of kind \"pci\" " +
                       "(the first is \(QuotedText.quote(earlier.component))'s at \(earlier.location.line):\(earlier.location.column)); " +
                       "the PCI configuration ports go to one PCI driver, which serves every device")
            }
        }
    }

    // MARK: VMs

    private mutating func vmm(of vm: VMDeclaration, in components: [ComponentDeclaration], names: ComponentNames,
                              vmms: [String]) -> Int? {
        guard let vmm = vm.vmm else { return nil }
        guard let index = names.index(of: vmm.value) else {
            report(vmm.location, "VM \(QuotedText.quote(vm.name.value)) is run by \(QuotedText.quote(vmm.value)), which is not a component" +
                   (suggestions.closest(to: vmm.value, in: names.names).map { "; did you mean \(QuotedText.quote($0))?" }
                    ?? (vmms.isEmpty ? "; add a [[component]] with vmm = true" : "; VMM components are " + quoted(vmms))))
            return nil
        }
        guard components[index].isVMM else {
            report(vmm.location, "VM \(QuotedText.quote(vm.name.value)) is run by \(QuotedText.quote(vmm.value)), which is not a VMM component; " +
                   "set vmm = true in its [[component]]" + (vmms.isEmpty ? "" : " or use one of " + quoted(vmms)))
            return nil
        }
        return index
    }

    /// A `disk_service` names a route of kind "block" in its VMM's uses, and no two VMs of one VMM share one (the
    /// block service has one client: the buffer and the request tags are the caller's).
    private mutating func diskServices(_ d: ManifestDeclarations, vmms: [Int?]) {
        var taken: [String: (vm: String, location: SourceLocation)] = [:]
        for (v, vm) in d.vms.enumerated() {
            guard let route = vm.diskService, vm.testImage == nil, let index = vmms[v] else { continue }
            let vmm = d.components[index], who = "VM \(QuotedText.quote(vm.name.value))"
            guard let used = vmm.uses.first(where: { $0.name.value == route.value }) else {
                let uses = vmm.uses.map { $0.name.value }
                report(route.location, "disk_service \(QuotedText.quote(route.value)) of \(who) is not a service its VMM " +
                       "\(QuotedText.quote(vmm.name.value)) uses; " + (uses.isEmpty
                        ? "add a [[component.uses]] of kind \"block\" to \(QuotedText.quote(vmm.name.value))"
                        : "it uses " + quoted(uses) + (suggestions.closest(to: route.value, in: uses)
                            .map { "; did you mean \(QuotedText.quote($0))?" } ?? "")))
                continue
            }
            guard used.kind.value == VirtualMachineDescription.diskServiceKind.description else {
                report(route.location, "disk_service \(QuotedText.quote(route.value)) of \(who) is a service of kind " +
                       "\(QuotedText.quote(used.kind.value)) in the uses of \(QuotedText.quote(vmm.name.value)); a disk " +
                       "needs one of kind \"block\"")
                continue
            }
            let key = vmm.name.value + "/" + route.value
            if let first = taken[key] {
                report(route.location, "disk_service \(QuotedText.quote(route.value)) of \(who) is also the disk of VM " +
                       "\(QuotedText.quote(first.vm)) (at \(first.location.line):\(first.location.column)); a block service " +
                       "has one client: give each VM its own route (and driver)")
            } else {
                taken[key] = (vm.name.value, route.location)
            }
        }
    }

    private mutating func vm(_ vm: VMDeclaration) {
        let vmName = vm.name.value
        var who: String { "VM \(QuotedText.quote(vmName))" }
        name(vm.name, what: "VM name")
        switch (vm.kernel, vm.testImage) {
        case (nil, nil):
            report(vm.location, "\(who) has no guest; set kernel = \"...\" (with optional initrd and cmdline) or test_image = \"...\"")
        case (.some, .some(let test)):
            report(test.location, "\(who) has both kernel and test_image; keep exactly one of them")
        case (nil, .some):
            for extra in [vm.initrd, vm.commandLine, vm.disk, vm.diskService].compactMap({ $0 }) {
                report(extra.location, "\(who) boots a test_image, which takes no initrd, cmdline or disk; remove this or use kernel instead of test_image")
            }
        case (.some, nil):
            break
        }
        if let kernel = vm.kernel { binary(kernel, "guest kernel", of: who) }
        if let initrd = vm.initrd { binary(initrd, "initrd", of: who) }
        if let disk = vm.disk { binary(disk, "disk", of: who) }
        if let route = vm.diskService {
            name(route, what: "disk_service")
            if vm.disk != nil {
                report(route.location, "\(who) has both disk and disk_service; keep one: disk serves a bundle module " +
                       "(read-only), disk_service a block service its VMM uses (writable)")
            }
        }
        if let test = vm.testImage { binary(test, "test image", of: who) }
        // The VMM gets the command line in its start-info page (one page for all its VMs), hence the limit.
        if let line = vm.commandLine, !NameRules.isPrintableASCII(line.value) || line.value.utf8.count > 1024 {
            report(line.location, "cmdline of \(who) must be printable ASCII of at most 1024 characters")
        }
        if let memory = vm.memory { quota(memory, what: "memory of \(who)") }
        if let n = vm.vcpus, !SystemDescription.vcpus.contains(n.value) {
            report(n.location, "\(who) has \(n.value) vCPUs; use 1 to \(SystemDescription.vcpus.upperBound)")
        }
        for s in vm.services {
            name(s.name, what: "service name")
            name(s.kind, what: "service kind")
        }
        checkUnique(vm.services.map { $0.name }, what: "service name in \(who)'s services")
    }

    // MARK: memory

    private mutating func quota(_ memory: Located<UInt64>, what: @autoclosure () -> String) {
        guard memory.value == 0 || memory.value % SystemDescription.pageSize != 0 else { return }
        let suggestion = memory.value == 0 ? "4K" : SizeText.bytes(SizeText.pageRoundUp(memory.value))
        report(memory.location, "\(what()) must be a non-zero multiple of 4K (e.g. \(suggestion)), not \(SizeText.bytes(memory.value))")
    }

    /// All components and VMs must fit in the machine; the error points where the running total passes the limit.
    private mutating func memory(_ d: ManifestDeclarations, limit: UInt64) {
        let quotas = d.components.compactMap { $0.memory } + d.vms.compactMap { $0.memory }
        var total: UInt64 = 0
        var passedAt: SourceLocation?
        for q in quotas {
            total = total.addingReportingOverflow(q.value).overflow ? UInt64.max : total + q.value
            if total > limit, passedAt == nil { passedAt = q.location }
        }
        guard let passedAt else { return }
        report(passedAt, "memory quotas exceed the machine: components and VMs need \(SizeText.bytes(total)) but the " +
               "machine has \(SizeText.bytes(limit)) (the total passes the limit here); reduce quotas by " +
               "\(SizeText.bytes(total - limit))")
    }

    // MARK: helpers

    private mutating func name(_ n: Located<String>, what: String) {
        if !NameRules.isValidName(n.value) {
            report(n.location, "invalid \(what) \(QuotedText.quote(n.value)): \(NameRules.nameRule)")
        }
    }

    /// `what` is "binary", "guest kernel", ...; `owner` is "component 'serial'" or "VM 'guest'".
    private mutating func binary(_ b: Located<String>, _ what: String, of owner: @autoclosure () -> String) {
        if !NameRules.isValidBinaryName(b.value) {
            report(b.location, "invalid \(what) name \(QuotedText.quote(b.value)) for \(owner()): \(NameRules.binaryRule)")
        } else if !binaryExists(b.value) {
            report(b.location, "\(what) \(QuotedText.quote(b.value)) of \(owner()) does not exist (or is not a " +
                   "regular file); build it or correct the name")
        }
    }

    private mutating func checkUnique(_ names: [Located<String>], what: @autoclosure () -> String) {
        guard names.count > 1 else { return }
        for d in DuplicateCheck.duplicates(in: names.map { $0.value }) {
            let n = names[d.index], first = names[d.first].location
            report(n.location, "duplicate \(what()) \(QuotedText.quote(n.value)) (first at \(first.line):\(first.column)); names must be unique")
        }
    }

    private func quoted(_ names: [String]) -> String { MessageList.join(names) { QuotedText.quote($0) } }

    private mutating func report(_ location: SourceLocation, _ message: String) {
        diagnostics.append(Diagnostic(location, message))
    }
}
