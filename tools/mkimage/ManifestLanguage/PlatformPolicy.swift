import ManifestFormat

/// The checks that need to know the target machine (`TargetMachine`): device grants that collide with RAM,
/// the kernel or what the platform keeps, binaries of the wrong kind, and memory that leaves too little for
/// the kernel, the root task and the page tables. Each error points at the grant or quota that causes it.
struct PlatformPolicy {
    let target: TargetMachine
    private(set) var diagnostics: [Diagnostic] = []

    init(target: TargetMachine) { self.target = target }

    mutating func check(_ d: ManifestDeclarations) {
        for c in d.components { devices(of: c) }
        binaryKinds(d)
        memory(d)
    }

    // MARK: devices

    private mutating func devices(of c: ComponentDeclaration) {
        // Built only for a message.
        let componentName = c.name.value
        var who: String { "component \(QuotedText.quote(componentName))" }
        for m in c.mmio where MMIORange(base: m.value.start, size: m.value.size).isValid {
            let start = m.value.start, end = m.value.start + m.value.size
            var range: String { SizeText.range(start, m.value.size) }
            if target.kernelImage.overlaps(start: start, end: end) {
                report(m.location, "MMIO range \(range) of \(who) overlaps \(describe(target.kernelImage)); " +
                       "the kernel's memory cannot be granted")
            } else if let r = target.reservedMMIO.first(where: { $0.overlaps(start: start, end: end) }) {
                report(m.location, "MMIO range \(range) of \(who) overlaps \(describe(r)), which the kernel or " +
                       "firmware keeps on \(target.name)")
            } else if let r = target.ram.first(where: { $0.overlaps(start: start, end: end) }) {
                report(m.location, "MMIO range \(range) of \(who) overlaps \(describe(r)) of \(target.name) with " +
                       "\(SizeText.bytes(target.memory)); MMIO must be device memory, RAM is given as memory quotas")
            }
        }
        for p in c.ioPorts where PortRange(first: p.value.start, count: p.value.size).isValid {
            let start = p.value.start, end = p.value.start + p.value.size
            if let r = target.reservedPorts.first(where: { $0.overlaps(start: start, end: end) }) {
                report(p.location, "I/O ports \(SizeText.range(start, p.value.size)) of \(who) overlap ports of " +
                       "\(describe(r)), which the kernel or platform keeps on \(target.name)")
            } else if c.isVMM, let r = target.pciConfigurationPorts, r.overlaps(start: start, end: end) {
                report(p.location, "I/O ports \(SizeText.range(start, p.value.size)) of \(who) overlap ports of " +
                       "\(describe(r)), which a VMM may not hold (the host's PCI devices are the PCI driver's)")
            }
        }
        for irq in c.interrupts {
            if let r = target.reservedInterrupts.first(where: { $0.overlaps(start: irq.value, end: irq.value &+ 1) }) {
                report(irq.location, "interrupt \(irq.value) of \(who) is \(r.name), which the kernel keeps on " +
                       "\(target.name)")
            }
        }
    }

    private func describe(_ r: TargetMachine.Region) -> String {
        "\(r.name) (\(SizeText.range(r.start, r.end - r.start)))"
    }

    // MARK: binaries

    /// The root task's module runs only as the root task; a VM boots a guest, not a component's binary.
    private mutating func binaryKinds(_ d: ManifestDeclarations) {
        var componentBinaries: [String: String] = [:]
        for c in d.components {
            guard let binary = c.binary else { continue }
            if binary.value == Self.rootTaskModule {
                report(binary.location, "component \(QuotedText.quote(c.name.value)) runs the root task's binary " +
                       "\(QuotedText.quote(Self.rootTaskModule)); the root task is implicit and starts once, by the kernel")
            } else if componentBinaries[binary.value] == nil {
                componentBinaries[binary.value] = c.name.value
            }
        }
        for vm in d.vms {
            for (what, image) in [("guest kernel", vm.kernel), ("initrd", vm.initrd), ("disk", vm.disk),
                                 ("test image", vm.testImage)] {
                guard let image else { continue }
                let vmName = vm.name.value
                var who: String { "VM \(QuotedText.quote(vmName))" }
                if image.value == Self.rootTaskModule {
                    report(image.location, "\(who) boots the root task's binary \(QuotedText.quote(image.value)) as its " +
                           "\(what); a VM boots a guest image")
                } else if let owner = componentBinaries[image.value] {
                    report(image.location, "\(who) boots \(QuotedText.quote(image.value)) as its \(what), but that is " +
                           "the binary of component \(QuotedText.quote(owner)); a VM boots a guest image, not a component")
                }
            }
        }
    }

    /// The bundle module of the root task (tools/mkimage puts it first).
    static let rootTaskModule = "roottask"

    // MARK: memory

    /// Quotas, the kernel (image and heap), the root task and every component's kernel quota (page tables
    /// and objects, `KernelQuota`) must fit in the target's RAM above 1 MiB. The error points where the
    /// running total of quotas passes what is left.
    private mutating func memory(_ d: ManifestDeclarations) {
        let usable = target.usableRAM
        let heap = target.kernelHeapBytes(freeRAM: usable)
        let fixed = target.kernelImage.end - target.kernelImage.start + heap + target.rootTaskBytes
        let linkEnd = target.kernelImage.end
        if target.memory < linkEnd {
            report(SourceLocation(line: 1, column: 1), "the target machine's \(SizeText.bytes(target.memory)) " +
                   "of RAM does not reach the kernel, which is linked at \(SizeText.hex(target.kernelImage.start)) " +
                   "and needs RAM up to \(SizeText.hex(linkEnd)); give the machine at least \(SizeText.bytes(linkEnd))")
            return
        }
        var vmsByVMM: [String: [(memory: UInt64, vcpus: UInt64)]] = [:]
        for vm in d.vms {
            if let vmm = vm.vmm {
                vmsByVMM[vmm.value, default: []].append((memory: vm.memory?.value ?? 0, vcpus: vm.vcpus?.value ?? 1))
            }
        }
        var quotas: UInt64 = 0, pageTables: UInt64 = 0
        var total = fixed
        var passedAt: SourceLocation?
        func add(_ amount: UInt64, at location: SourceLocation) {
            let (sum, overflow) = total.addingReportingOverflow(amount)
            total = overflow ? UInt64.max : sum
            if total > usable, passedAt == nil { passedAt = location }
        }
        for c in d.components {
            let pages = KernelQuota.pages(runningVMs: vmsByVMM[c.name.value] ?? [],
                                          providesPCI: c.provides.contains { $0.kind.value == "pci" })
            let (bytes, tooMany) = pages.multipliedReportingOverflow(by: SystemDescription.pageSize)
            let kernel = tooMany ? UInt64.max : bytes
            pageTables = pageTables.addingReportingOverflow(kernel).overflow ? UInt64.max : pageTables + kernel
            add(kernel, at: c.memory?.location ?? c.location)
            if let m = c.memory {
                quotas = quotas.addingReportingOverflow(m.value).overflow ? UInt64.max : quotas + m.value
                add(m.value, at: m.location)
            }
        }
        for vm in d.vms {
            guard let m = vm.memory else { continue }
            quotas = quotas.addingReportingOverflow(m.value).overflow ? UInt64.max : quotas + m.value
            add(m.value, at: m.location)
        }
        guard let passedAt else { return }
        report(passedAt, "memory quotas leave too little for the kernel and the root task on \(target.name) with " +
               "\(SizeText.bytes(target.memory)): quotas \(SizeText.bytes(quotas)) + kernel quotas of the components " +
               "\(SizeText.bytes(pageTables)) + kernel image \(SizeText.bytes(target.kernelImage.end - target.kernelImage.start)) " +
               "+ kernel heap \(SizeText.bytes(heap)) + root task \(SizeText.bytes(target.rootTaskBytes)) = " +
               "\(SizeText.bytes(total)), but \(SizeText.bytes(usable)) of RAM is usable (the total passes it here)")
    }

    private mutating func report(_ location: SourceLocation, _ message: String) {
        diagnostics.append(Diagnostic(location, message))
    }
}
