/// Decodes a compiled manifest and checks every invariant of `SystemDescription` again: the root task must not
/// trust the image builder. Any corrupt, truncated or inconsistent blob gives a `ManifestDecodeError`; nothing
/// traps.
public enum ManifestDecoder {
    public static func decode(_ bytes: [UInt8]) throws(ManifestDecodeError) -> SystemDescription {
        let header = try checkHeader(bytes)
        var reader = BlobReader(bytes: bytes, offset: BlobLayout.headerSize, end: header.stringTable.lowerBound,
                                stringTable: header.stringTable)
        try reader.require(header.componentCount, of: BlobLayout.componentFixedSize, .counts)

        var places = Places()
        var components: [ComponentDescription] = []
        for index in 0..<header.componentCount {
            components.append(try component(index, header: header, decoded: components, reader: &reader,
                                            places: &places))
        }
        try reader.require(header.vmCount, of: BlobLayout.vmFixedSize, .vmName)
        var vms: [VirtualMachineDescription] = []
        for _ in 0..<header.vmCount {
            vms.append(try virtualMachine(components: components, reader: &reader, places: &places))
        }
        guard reader.offset == reader.end else {
            throw .unusedRecordBytes(offset: reader.offset, stringTable: reader.end)
        }

        let system = SystemDescription(machineMemory: header.machineMemory, interruptCount: header.interruptCount,
                                       components: components, vms: vms)
        try checkUniqueNames(system, places)
        try checkResources(places)
        try checkMemory(system)
        return system
    }

    /// Convenience for a blob the caller has in memory (e.g. the root task's view of the boot bundle).
    public static func decode(_ buffer: UnsafeRawBufferPointer) throws(ManifestDecodeError) -> SystemDescription {
        try decode(Array(buffer))
    }

    // MARK: header

    struct Header {
        var componentCount: Int
        var vmCount: Int
        var stringTable: Range<Int>
        var interruptCount: UInt64
        var machineMemory: UInt64
    }

    static func checkHeader(_ bytes: [UInt8]) throws(ManifestDecodeError) -> Header {
        guard bytes.count >= BlobLayout.headerSize else { throw .tooShort(size: bytes.count) }
        for i in 0..<BlobLayout.magic.count where bytes[i] != BlobLayout.magic[i] { throw .badMagic }
        let version = u32(bytes, BlobLayout.versionOffset)
        guard version == BlobLayout.version else { throw .unsupportedVersion(version) }
        let length = Int(u32(bytes, BlobLayout.lengthOffset))
        guard length <= bytes.count else { throw .truncated(declared: length, actual: bytes.count) }
        guard length == bytes.count else { throw .trailingBytes(declared: length, actual: bytes.count) }
        let stored = u32(bytes, BlobLayout.checksumOffset)
        let computed = CRC32.checksum(bytes, zeroing: BlobLayout.checksumOffset..<(BlobLayout.checksumOffset + 4))
        guard stored == computed else { throw .checksumMismatch(stored: stored, computed: computed) }

        let tableOffset = Int(u32(bytes, BlobLayout.stringTableOffsetOffset))
        let tableSize = Int(u32(bytes, BlobLayout.stringTableSizeOffset))
        guard tableOffset >= BlobLayout.headerSize, tableOffset <= length, tableSize == length - tableOffset else {
            throw .badStringTable(offset: tableOffset, size: tableSize)
        }
        let interrupts = UInt64(u32(bytes, BlobLayout.interruptCountOffset))
        guard interrupts <= SystemDescription.maxInterruptCount else {
            throw .badValue(offset: BlobLayout.interruptCountOffset, what: .interruptCount, value: interrupts)
        }
        return Header(componentCount: Int(u32(bytes, BlobLayout.componentCountOffset)),
                      vmCount: Int(u32(bytes, BlobLayout.vmCountOffset)),
                      stringTable: tableOffset..<length, interruptCount: interrupts,
                      machineMemory: u64(bytes, BlobLayout.machineMemoryOffset))
    }

    static func u32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        var value: UInt32 = 0
        for i in 0..<4 { value |= UInt32(bytes[at + i]) << (8 * UInt32(i)) }
        return value
    }

    static func u64(_ bytes: [UInt8], _ at: Int) -> UInt64 {
        UInt64(u32(bytes, at)) | UInt64(u32(bytes, at + 4)) << 32
    }

    // MARK: records

    /// Where each decoded item came from, for the checks that look across records.
    struct Places {
        var componentNames: [Int] = []
        var vmNames: [Int] = []
        /// Per component (then per VM): the offsets of its service names and of its route names.
        var serviceNames: [[Int]] = []
        var routeNames: [[Int]] = []
        var ports: [(range: PortRange, offset: Int)] = []
        var mmio: [(range: MMIORange, offset: Int)] = []
        var interrupts: [(irq: UInt64, offset: Int)] = []
        var pciDevices: [(device: PCIDeviceSelector, offset: Int)] = []
        /// Per VM, where its disk string is.
        var disks: [Int] = []
    }

    static func component(_ index: Int, header: Header, decoded: [ComponentDescription], reader r: inout BlobReader,
                          places: inout Places) throws(ManifestDecodeError) -> ComponentDescription {
        places.componentNames.append(r.offset)
        let name = try r.string(.componentName)
        let binary = try r.string(.binary)
        let memoryAt = r.offset
        let memory = try r.u64(.componentMemory)
        guard memory > 0, memory % SystemDescription.pageSize == 0 else {
            throw .badValue(offset: memoryAt, what: .componentMemory, value: memory)
        }
        let priorityAt = r.offset
        let priority = try r.u64(.priority)
        guard SystemDescription.priorities.contains(priority) else {
            throw .badValue(offset: priorityAt, what: .priority, value: priority)
        }
        let budgetAt = r.offset
        let budget = try r.u64(.budget)
        guard SystemDescription.budgets.contains(budget) else {
            throw .badValue(offset: budgetAt, what: .budget, value: budget)
        }
        let flagsAt = r.offset
        let flags = try r.u32(.componentFlags)
        guard flags & ~BlobLayout.componentFlags == 0 else {
            throw .unknownFlags(offset: flagsAt, what: .componentFlags, value: flags)
        }
        let portCount = try r.count(.counts)
        let mmioCount = try r.count(.counts)
        let interruptCount = try r.count(.counts)
        let providesCount = try r.count(.counts)
        let usesCount = try r.count(.counts)
        let dependsCount = try r.count(.counts)
        let pciCount = try r.count(.counts)

        try r.require(portCount, of: BlobLayout.portSize, .ioPorts)
        var ports: [PortRange] = []
        for _ in 0..<portCount {
            let at = r.offset
            let range = PortRange(first: try r.u64(.ioPorts), count: try r.u64(.ioPorts))
            guard range.isValid else { throw .badValue(offset: at, what: .ioPorts, value: range.first) }
            ports.append(range)
            places.ports.append((range, at))
        }
        try r.require(mmioCount, of: BlobLayout.mmioSize, .mmio)
        var mmio: [MMIORange] = []
        for _ in 0..<mmioCount {
            let at = r.offset
            let range = MMIORange(base: try r.u64(.mmio), size: try r.u64(.mmio))
            guard range.isValid else { throw .badValue(offset: at, what: .mmio, value: range.base) }
            mmio.append(range)
            places.mmio.append((range, at))
        }
        try r.require(interruptCount, of: BlobLayout.interruptSize, .interrupt)
        var interrupts: [UInt64] = []
        for _ in 0..<interruptCount {
            let at = r.offset
            let irq = try r.u64(.interrupt)
            guard irq < header.interruptCount else { throw .badValue(offset: at, what: .interrupt, value: irq) }
            interrupts.append(irq)
            places.interrupts.append((irq, at))
        }
        try r.require(providesCount, of: BlobLayout.serviceSize, .serviceName)
        var provides: [ServiceDescription] = []
        var serviceNames: [Int] = []
        for _ in 0..<providesCount {
            serviceNames.append(r.offset)
            provides.append(ServiceDescription(name: try r.string(.serviceName), kind: try r.string(.serviceKind)))
        }
        places.serviceNames.append(serviceNames)
        try r.require(usesCount, of: BlobLayout.routeSize, .routeName)
        var uses: [ServiceRoute] = []
        var routeNames: [Int] = []
        for _ in 0..<usesCount {
            routeNames.append(r.offset)
            uses.append(try route(user: index, componentCount: header.componentCount, decoded: decoded, reader: &r))
        }
        places.routeNames.append(routeNames)
        try r.require(dependsCount, of: BlobLayout.dependencySize, .dependency)
        var dependsOn: [Int] = []
        for _ in 0..<dependsCount {
            let at = r.offset
            let value = try r.u32(.dependency)
            guard Int(value) < header.componentCount else {
                throw .indexOutOfRange(offset: at, what: .dependency, value: value, count: header.componentCount)
            }
            guard Int(value) < index else { throw .startOrder(offset: at, component: index, needs: Int(value)) }
            dependsOn.append(Int(value))
        }
        try r.require(pciCount, of: BlobLayout.pciDeviceSize, .pciDevice)
        var pciDevices: [PCIDeviceSelector] = []
        for _ in 0..<pciCount {
            let at = r.offset
            let kind = try r.u32(.pciDevice)
            let value = try r.u32(.pciDevice)
            guard let device = PCIDeviceSelector.decode(kind: kind, value: value) else {
                throw .badValue(offset: at, what: .pciDevice, value: UInt64(kind) << 32 | UInt64(value))
            }
            pciDevices.append(device)
            places.pciDevices.append((device, at))
        }
        return ComponentDescription(name: name, binary: binary, memory: memory, priority: priority,
                                    budgetMilliseconds: budget, ioPorts: ports, mmio: mmio, interrupts: interrupts,
                                    provides: provides, uses: uses, dependsOn: dependsOn,
                                    restartOnFault: flags & BlobLayout.restartOnFaultFlag != 0,
                                    isVMM: flags & BlobLayout.vmmFlag != 0, pciDevices: pciDevices)
    }

    /// A route of component `user` (or of a VM run by VMM `user`): its provider must start before `user`, or be
    /// `user` itself when `mayBeUser` (a VM using a service of its own VMM; see `StartOrder`).
    static func route(user: Int, componentCount: Int, decoded: [ComponentDescription], mayBeUser: Bool = false,
                      reader r: inout BlobReader) throws(ManifestDecodeError) -> ServiceRoute {
        let at = r.offset
        let name = try r.string(.routeName)
        let kind = try r.string(.routeKind)
        let providerAt = r.offset
        let provider = try r.u32(.provider)
        guard Int(provider) < componentCount else {
            throw .indexOutOfRange(offset: providerAt, what: .provider, value: provider, count: componentCount)
        }
        guard Int(provider) < user || (mayBeUser && Int(provider) == user) else {
            throw .startOrder(offset: providerAt, component: user, needs: Int(provider))
        }
        let serviceAt = r.offset
        let service = try r.u32(.service)
        let offered = decoded[Int(provider)].provides
        guard Int(service) < offered.count else {
            throw .indexOutOfRange(offset: serviceAt, what: .service, value: service, count: offered.count)
        }
        guard offered[Int(service)].kind == kind else { throw .routeKindMismatch(offset: at) }
        return ServiceRoute(name: name, kind: kind, provider: Int(provider), service: Int(service))
    }

    static func virtualMachine(components: [ComponentDescription], reader r: inout BlobReader,
                               places: inout Places) throws(ManifestDecodeError) -> VirtualMachineDescription {
        let at = r.offset
        places.vmNames.append(at)
        let name = try r.string(.vmName)
        let vmmAt = r.offset
        let vmm = try r.u32(.vmm)
        guard Int(vmm) < components.count else {
            throw .indexOutOfRange(offset: vmmAt, what: .vmm, value: vmm, count: components.count)
        }
        guard components[Int(vmm)].isVMM else { throw .notAVMM(offset: vmmAt, component: Int(vmm)) }
        let kindAt = r.offset
        let kind = try r.u32(.imageKind)
        let image: GuestImage
        switch kind {
        case BlobLayout.kernelImageKind:
            let kernel = try r.string(.guestImage)
            let initrd = try r.string(.initrd, optional: true)
            let commandLine = try r.string(.commandLine, optional: true)
            image = .kernel(kernel: kernel, initrd: initrd.isEmpty ? nil : initrd, commandLine: commandLine)
        case BlobLayout.testImageKind:
            let test = try r.string(.guestImage)
            let initrdAt = r.offset
            guard try r.string(.initrd, optional: true).isEmpty else { throw .badValue(offset: initrdAt, what: .initrd, value: 0) }
            let lineAt = r.offset
            guard try r.string(.commandLine, optional: true).isEmpty else {
                throw .badValue(offset: lineAt, what: .commandLine, value: 0)
            }
            image = .testImage(test)
        default:
            throw .unknownImageKind(offset: kindAt, value: kind)
        }
        let diskAt = r.offset
        places.disks.append(diskAt)
        let disk = try r.string(.disk, optional: true)
        if case .testImage = image, !disk.isEmpty { throw .badValue(offset: diskAt, what: .disk, value: 0) }
        let memoryAt = r.offset
        let memory = try r.u64(.vmMemory)
        guard memory > 0, memory % SystemDescription.pageSize == 0 else {
            throw .badValue(offset: memoryAt, what: .vmMemory, value: memory)
        }
        let vcpusAt = r.offset
        let vcpus = try r.u64(.vcpus)
        guard SystemDescription.vcpus.contains(vcpus) else { throw .badValue(offset: vcpusAt, what: .vcpus, value: vcpus) }
        let flagsAt = r.offset
        let flags = try r.u32(.vmFlags)
        guard flags & ~BlobLayout.vmFlags == 0 else { throw .unknownFlags(offset: flagsAt, what: .vmFlags, value: flags) }
        let fromService = flags & BlobLayout.diskServiceFlag != 0
        if fromService {
            guard !disk.isEmpty else { throw .emptyString(offset: diskAt, what: .disk) }
            guard components[Int(vmm)].uses.contains(where: {
                $0.name == disk && $0.kind == VirtualMachineDescription.diskServiceKind
            }) else { throw .diskServiceNotRouted(offset: diskAt, vmm: Int(vmm)) }
        }
        let count = try r.count(.counts)
        try r.require(count, of: BlobLayout.routeSize, .routeName)
        var services: [ServiceRoute] = []
        var routeNames: [Int] = []
        for _ in 0..<count {
            routeNames.append(r.offset)
            services.append(try route(user: Int(vmm), componentCount: components.count, decoded: components,
                                      mayBeUser: true, reader: &r))
        }
        places.routeNames.append(routeNames)
        return VirtualMachineDescription(name: name, vmm: Int(vmm), image: image, memory: memory, vcpus: vcpus,
                                         nested: flags & BlobLayout.nestedFlag != 0, services: services,
                                         disk: disk.isEmpty || fromService ? nil : disk,
                                         diskService: fromService ? disk : nil)
    }

    // MARK: cross-record checks

    static func checkUniqueNames(_ system: SystemDescription, _ places: Places) throws(ManifestDecodeError) {
        try unique(system.components.map { $0.name }, places.componentNames, .componentName)
        try unique(system.vms.map { $0.name }, places.vmNames, .vmName)
        for (i, c) in system.components.enumerated() {
            try unique(c.provides.map { $0.name }, places.serviceNames[i], .serviceName)
            try unique(c.uses.map { $0.name }, places.routeNames[i], .routeName)
        }
        for (i, vm) in system.vms.enumerated() {
            try unique(vm.services.map { $0.name }, places.routeNames[system.components.count + i], .routeName)
        }
        // One client per block service: two VMs of one VMM may not share a disk route.
        let served = system.vms.indices.filter { system.vms[$0].diskService != nil }
        let keys = served.map { DiskServiceKey(vmm: system.vms[$0].vmm, route: system.vms[$0].diskService ?? "") }
        if let d = DuplicateCheck.duplicates(in: keys).first {
            throw .duplicateName(offset: places.disks[served[d.index]], what: .disk)
        }
    }

    /// A VM's disk route as its VMM knows it.
    struct DiskServiceKey: Comparable {
        var vmm: Int
        var route: ManifestString
        static func < (a: DiskServiceKey, b: DiskServiceKey) -> Bool { a.vmm != b.vmm ? a.vmm < b.vmm : a.route < b.route }
    }

    static func unique(_ names: [ManifestString], _ offsets: [Int], _ what: BlobField) throws(ManifestDecodeError) {
        if let d = DuplicateCheck.duplicates(in: names).first { throw .duplicateName(offset: offsets[d.index], what: what) }
    }

    /// No I/O port, MMIO byte, interrupt or PCI device (as written) may be granted twice (to two components, or
    /// twice to one). Two selectors naming the same device in different ways are found by the root task on the bus.
    static func checkResources(_ places: Places) throws(ManifestDecodeError) {
        if let d = DuplicateCheck.duplicates(in: places.pciDevices.map { $0.device }).first {
            throw .resourceConflict(offset: places.pciDevices[d.index].offset, what: .pciDevice,
                                    otherOffset: places.pciDevices[d.first].offset)
        }
        try noOverlap(places.ports.map { $0.range.first }, places.ports.map { $0.range.end },
                      places.ports.map { $0.offset }, .ioPorts)
        try noOverlap(places.mmio.map { $0.range.base }, places.mmio.map { $0.range.end },
                      places.mmio.map { $0.offset }, .mmio)
        try noOverlap(places.interrupts.map { $0.irq }, places.interrupts.map { $0.irq + 1 },
                      places.interrupts.map { $0.offset }, .interrupt)
    }

    static func noOverlap(_ starts: [UInt64], _ ends: [UInt64], _ offsets: [Int],
                          _ what: BlobField) throws(ManifestDecodeError) {
        if let o = OverlapCheck.overlaps(starts: starts, ends: ends).first {
            throw .resourceConflict(offset: offsets[o.index], what: what, otherOffset: offsets[o.earlier])
        }
    }

    static func checkMemory(_ system: SystemDescription) throws(ManifestDecodeError) {
        var total: UInt64 = 0
        var overflow = false
        for amount in system.components.map({ $0.memory }) + system.vms.map({ $0.memory }) {
            let (sum, o) = total.addingReportingOverflow(amount)
            total = o ? UInt64.max : sum
            overflow = overflow || o
        }
        guard !overflow, total <= system.machineMemory else {
            throw .memoryExceedsMachine(total: total, machine: system.machineMemory)
        }
    }
}
