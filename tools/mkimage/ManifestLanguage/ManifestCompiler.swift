import ManifestFormat

/// The result of compiling a manifest: the system in start order, its binary encoding for the boot bundle, and
/// the bundle modules it needs (component binaries in start order, then the VMs' images, each name once).
public struct CompiledManifest {
    public var system: SystemDescription
    public var blob: [UInt8]
    public var binaries: [String]
}

/// Manifest text -> `CompiledManifest`, or every problem found, sorted by position.
public enum ManifestCompiler {
    /// - Parameters:
    ///   - machineMemory: the target machine's memory; `[machine] memory` may lower but not raise it.
    ///   - binaryExists: whether a bundle module (component binary, guest kernel, initrd, test image) is available.
    /// A size as the manifest writes it (`512M`, `0x1000`, `4096`), for command-line options; nil if invalid.
    public static func size(_ text: String) -> UInt64? {
        if case .success(let value) = IntegerLiteral.parse(text) { return value }
        return nil
    }

    /// The file as read from disk: checked for size, UTF-8 and line endings first (`SourceText`).
    public static func compile(bytes: [UInt8], file: String, machineMemory: UInt64,
                               binaryExists: (String) -> Bool) -> Result<CompiledManifest, ManifestErrors> {
        switch SourceText.decode(bytes, file: file) {
        case .success(let source):
            return compile(source: source, file: file, machineMemory: machineMemory, binaryExists: binaryExists)
        case .failure(let errors):
            return .failure(errors)
        }
    }

    public static func compile(source: String, file: String, machineMemory: UInt64,
                               binaryExists: (String) -> Bool) -> Result<CompiledManifest, ManifestErrors> {
        compile(source: source, file: file, target: .q35OVMF(memory: machineMemory), binaryExists: binaryExists)
    }

    /// - Parameter target: the machine the image is for; its RAM is the limit `[machine] memory` may lower.
    public static func compile(source: String, file: String, target: TargetMachine,
                               binaryExists: (String) -> Bool) -> Result<CompiledManifest, ManifestErrors> {
        let machineMemory = target.memory
        var parser = TOMLParser(source: source, file: file)
        parser.parse()
        let suggestions = KeySuggestion()
        var reader = DeclarationReader(suggestions: suggestions)
        let declarations = reader.read(parser.root)
        var diagnostics = parser.diagnostics + reader.diagnostics
        if declarations.components.isEmpty && diagnostics.isEmpty {
            diagnostics.append(Diagnostic(file: file, SourceLocation(line: 1, column: 1),
                                          "the manifest declares no components; add at least one [[component]] section"))
        }
        let resolution = withoutActuallyEscaping(binaryExists) { exists -> ManifestValidator.Resolution in
            var validator = ManifestValidator(machineMemory: machineMemory, binaryExists: exists, suggestions: suggestions)
            let complete = parser.diagnostics.isEmpty && !reader.lostReferences
            let resolution = validator.validate(declarations, checkReferences: complete)
            diagnostics += validator.diagnostics
            var policy = PlatformPolicy(target: target)
            policy.check(declarations)
            diagnostics += policy.diagnostics
            return resolution
        }
        guard diagnostics.isEmpty, let system = build(declarations, resolution) else {
            return .failure(ManifestErrors(diagnostics: sorted(diagnostics, file: file)))
        }
        let blob = ManifestEncoder.encode(system)
        // The root task will decode the blob with these checks; never ship one it would reject.
        do throws(ManifestDecodeError) {
            _ = try ManifestDecoder.decode(blob)
        } catch {
            return .failure(ManifestErrors(diagnostics: [Diagnostic(file: file, SourceLocation(line: 1, column: 1),
                "internal error: the compiled manifest fails its own check: \(error)")]))
        }
        return .success(CompiledManifest(system: system, blob: blob, binaries: binaries(of: system)))
    }

    /// The validated declarations as a `SystemDescription` with components in start order; nil if anything
    /// needed is missing (which the validator has reported).
    static func build(_ d: ManifestDeclarations, _ r: ManifestValidator.Resolution) -> SystemDescription? {
        guard let order = r.startOrder else { return nil }
        var position = Array(repeating: 0, count: d.components.count)
        for (newIndex, declIndex) in order.enumerated() { position[declIndex] = newIndex }
        let names = ComponentNames(d.components)

        func routes(_ declared: [RouteDeclaration], _ resolved: [ManifestValidator.ResolvedRoute?]) -> [ServiceRoute]? {
            var result: [ServiceRoute] = []
            for (route, target) in zip(declared, resolved) {
                guard let target else { return nil }
                result.append(ServiceRoute(name: ManifestString(route.name.value), kind: ManifestString(route.kind.value),
                                           provider: position[target.provider], service: target.service))
            }
            return result
        }

        var components: [ComponentDescription] = []
        for i in order {
            let c = d.components[i]
            guard let binary = c.binary, let memory = c.memory, let uses = routes(c.uses, r.componentRoutes[i]) else {
                return nil
            }
            var dependsOn: [Int] = []
            for dep in c.dependsOn {
                guard let j = names.index(of: dep.value) else { return nil }
                dependsOn.append(position[j])
            }
            components.append(ComponentDescription(
                name: ManifestString(c.name.value), binary: ManifestString(binary.value), memory: memory.value,
                priority: c.priority?.value ?? ManifestSchema.defaultPriority,
                budgetMilliseconds: c.budget?.value ?? ManifestSchema.defaultBudgetMilliseconds,
                ioPorts: c.ioPorts.map { PortRange(first: $0.value.start, count: $0.value.size) },
                mmio: c.mmio.map { MMIORange(base: $0.value.start, size: $0.value.size) },
                interrupts: c.interrupts.map { $0.value },
                provides: c.provides.map { ServiceDescription(name: ManifestString($0.name.value), kind: ManifestString($0.kind.value)) },
                uses: uses, dependsOn: dependsOn, restartOnFault: c.restartOnFault, isVMM: c.isVMM,
                pciDevices: c.pciDevices.compactMap { try? PCIDeviceSelector.parse($0.value).get() }))
        }

        var vms: [VirtualMachineDescription] = []
        for (v, vm) in d.vms.enumerated() {
            guard let vmm = r.vmms[v], let memory = vm.memory, let services = routes(vm.services, r.vmRoutes[v]) else {
                return nil
            }
            let image: GuestImage
            if let kernel = vm.kernel {
                image = .kernel(kernel: ManifestString(kernel.value), initrd: vm.initrd.map { ManifestString($0.value) },
                                commandLine: ManifestString(vm.commandLine?.value ?? ""))
            } else if let test = vm.testImage {
                image = .testImage(ManifestString(test.value))
            } else {
                return nil
            }
            vms.append(VirtualMachineDescription(name: ManifestString(vm.name.value), vmm: position[vmm], image: image,
                                                 memory: memory.value, vcpus: vm.vcpus?.value ?? 1, nested: vm.nested,
                                                 services: services, disk: vm.disk.map { ManifestString($0.value) },
                                                 diskService: vm.diskService.map { ManifestString($0.value) }))
        }
        return SystemDescription(machineMemory: r.machineMemory, interruptCount: r.interruptCount,
                                 components: components, vms: vms)
    }

    static func binaries(of system: SystemDescription) -> [String] {
        var names: [String] = []
        func add(_ name: ManifestString?) {
            guard let name, !name.isEmpty, !names.contains(name.description) else { return }
            names.append(name.description)
        }
        for c in system.components { add(c.binary) }
        for vm in system.vms {
            switch vm.image {
            case .kernel(let kernel, let initrd, _):
                add(kernel)
                add(initrd)
            case .testImage(let image):
                add(image)
            }
            add(vm.disk)
        }
        return names
    }

    /// By position, each in `file` (the checks after the parser know positions only); diagnostics at the same
    /// position keep the order in which they were found. At most `ManifestLimits.maxDiagnostics` are kept,
    /// then one line says how many more there were.
    static func sorted(_ diagnostics: [Diagnostic], file: String) -> [Diagnostic] {
        var result = diagnostics.enumerated().sorted { a, b in
            (a.element.line, a.element.column, a.offset) < (b.element.line, b.element.column, b.offset)
        }.map { d -> Diagnostic in
            var d = d.element
            d.file = file
            return d
        }
        if result.count > ManifestLimits.maxDiagnostics {
            let more = result.count - ManifestLimits.maxDiagnostics
            let last = result[ManifestLimits.maxDiagnostics - 1]
            result.removeLast(more)
            result.append(Diagnostic(file: file, line: last.line, column: last.column,
                                     message: "\(more) more errors not shown; fix these first"))
        }
        return result
    }
}
