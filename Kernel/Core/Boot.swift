import BootFormat
import ELFFormat
import KernelABI

/// Boot: check the configuration, carve free memory into the kernel pool, the root task's pages and the root's
/// physical window, build the kernel's identity map, and create the root PD, EC and SC (interface in ABI.md).
extension Kernel {
    /// The kernel identity-maps physical memory below this (PML4 slot 0 covers 512 GiB).
    static var kernelMapLimit: UInt64 { 512 << 30 }
    /// Ranges that are mapped 2 MiB at a time: at least 4 GiB so the local APIC and I/O APIC are reachable.
    static var minimumIdentityMap: UInt64 { 4 << 30 }
    /// Priority and budget of the root SC.
    static var rootPriority: UInt64 { Scheduler.maxPriority }
    static var rootBudgetMilliseconds: UInt64 { 10 }

    func boot() throws(BootError) {
        let config = configuration
        guard config.ticksPerMillisecond > 0 else { throw .zeroTimerRate }
        guard config.interruptCount <= RootSelectors.lineCount else {
            throw .interruptCountTooLarge(config.interruptCount)
        }
        let free = try alignedFreeMemory()
        try checkDeviceMemory(against: free)
        let image = try rootImage()

        // Carve: the kernel pool first, then the root task's fixed pages, the rest is the root's window.
        let page = AddressLayout.pageSize
        let totalPages = free.reduce(0) { $0 + $1.size / page }
        let bootPages = image.segments.reduce(0) { $0 + $1.pageCount } + AddressLayout.rootStackPages + 1
        let poolPages = max(256, totalPages / 16)
        guard totalPages >= poolPages + bootPages else {
            throw .notEnoughMemory(neededPages: poolPages + bootPages, availablePages: totalPages)
        }
        var carver = RangeCarver(free)
        frames = FrameAllocator(ranges: carver.take(pages: poolPages))
        let bootFrames = carver.take(pages: bootPages).flatMap { r in
            stride(from: r.base, to: r.end, by: Int(page)).map { $0 }
        }
        rootWindow = carver.rest
        guard rootWindow.count <= RootBootInfo.maxRegions else {
            throw .tooManyRanges(what: "free memory regions", count: rootWindow.count, limit: RootBootInfo.maxRegions)
        }

        try buildKernelMap()
        let root = try makeRootPD()
        var nextBootFrame = bootFrames.makeIterator()
        func bootFrame() -> UInt64 {
            guard let frame = nextBootFrame.next() else { preconditionFailure("kernel bug: boot page count") }
            platform.zeroPage(frame)
            return frame
        }

        // The root image, page by page, with the segment's permissions.
        for segment in image.segments {
            let permissions = Permissions.read | (segment.writable ? Permissions.write : 0)
                | (segment.executable ? Permissions.execute : 0)
            for vaddr in stride(from: segment.firstPage, to: segment.endPage, by: Int(page)) {
                let frame = bootFrame()
                copyImageBytes(segment, page: vaddr, to: frame)
                try grantBootMemory(root, virtualAddress: vaddr, physical: frame, permissions: permissions)
            }
        }
        // Stack and boot information page.
        let stackBase = AddressLayout.rootStackTop - AddressLayout.rootStackPages * page
        for vaddr in stride(from: stackBase, to: AddressLayout.rootStackTop, by: Int(page)) {
            try grantBootMemory(root, virtualAddress: vaddr, physical: bootFrame(),
                                permissions: Permissions.read | Permissions.write)
        }
        let infoFrame = bootFrame()
        let info = RootBootInfo(bundleAddress: config.bundle.base, bundleSize: config.bundle.size,
                                ticksPerMillisecond: config.ticksPerMillisecond, memory: rootWindow,
                                deviceMemory: config.deviceMemory, configurationWindows: config.configurationWindows,
                                dmaRemapping: platform.dmaRemapping)
        for (i, word) in info.words.enumerated() { platform.writePhysical(infoFrame + UInt64(i) * 8, word) }
        try grantBootMemory(root, virtualAddress: AddressLayout.rootBootInfo, physical: infoFrame,
                            permissions: Permissions.read)
        // The bundle, read-only, where the physical window puts it; then all remaining free memory. Both as the
        // fewest aligned ranges (the window is 512 GiB-aligned, so they map with large pages): nothing here
        // touches every page of RAM.
        if config.bundle.size > 0 {
            let first = config.bundle.base & ~(page - 1)
            let end = (config.bundle.end + page - 1) & ~(page - 1)
            try grantBootRanges(root, PhysicalRange(base: first, size: end - first), permissions: Permissions.read)
        }
        for range in rootWindow { try grantBootRanges(root, range, permissions: Permissions.memoryAll) }
        // Device memory is listed, not mapped: the root claims what it hands out (DeviceMemory.swift).
        // All I/O ports: one range.
        root.space.insert(Capability(kind: .io, holder: root, key: 0, order: 16, resource: 0, object: nil,
                                     permissions: Permissions.ioAccess, parent: nil))
        root.ioBitmap.set(0, count: CapabilitySpace.portLimit, allowed: true)
        try makeRootObjects(root, entry: image.entry)
    }

    /// Free memory rounded inward to pages, checked against the image, the bundle, each other and the map limit.
    private func alignedFreeMemory() throws(BootError) -> [PhysicalRange] {
        let page = AddressLayout.pageSize
        var result: [PhysicalRange] = []
        for range in configuration.freeMemory {
            let base = (range.base &+ page &- 1) & ~(page - 1)
            let end = range.end & ~(page - 1)
            guard range.end >= range.base else { throw .overlappingMemory(range) }
            guard end > base else { continue }
            let aligned = PhysicalRange(base: base, size: end - base)
            guard end <= Self.kernelMapLimit else { throw .memoryBeyondKernelMap(range) }
            for other in result + [configuration.rootImage, configuration.bundle]
            where other.size > 0 && other.base < aligned.end && aligned.base < other.end {
                throw .overlappingMemory(range)
            }
            result.append(aligned)
        }
        for fixed in [configuration.rootImage, configuration.bundle] where fixed.end > Self.kernelMapLimit {
            throw .memoryBeyondKernelMap(fixed)
        }
        return result.sorted { $0.base < $1.base }
    }

    /// Device memory is whole pages in ascending order, apart from RAM, the root image and the bundle, and below
    /// the physical limit; every configuration window lies in it; and the boot information page can list them.
    private func checkDeviceMemory(against free: [PhysicalRange]) throws(BootError) {
        let page = AddressLayout.pageSize
        var previousEnd: UInt64 = 0
        for range in configuration.deviceMemory {
            guard range.size > 0, range.base % page == 0, range.size % page == 0, range.base >= previousEnd,
                  range.size <= AddressLayout.physicalLimit, range.base <= AddressLayout.physicalLimit - range.size
            else { throw .badDeviceMemory(range) }
            for other in free + [configuration.rootImage, configuration.bundle]
            where other.size > 0 && other.base < range.end && range.base < other.end {
                throw .badDeviceMemory(range)
            }
            previousEnd = range.end
        }
        for window in configuration.configurationWindows {
            let r = window.range
            guard configuration.deviceMemory.contains(where: { $0.base <= r.base && r.end <= $0.end }) else {
                throw .configurationWindowOutsideDeviceMemory(window)
            }
        }
        guard configuration.deviceMemory.count <= RootBootInfo.maxDeviceRegions else {
            throw .tooManyRanges(what: "device memory ranges", count: configuration.deviceMemory.count,
                                 limit: RootBootInfo.maxDeviceRegions)
        }
        guard configuration.configurationWindows.count <= RootBootInfo.maxConfigurationWindows else {
            throw .tooManyRanges(what: "PCI configuration windows", count: configuration.configurationWindows.count,
                                 limit: RootBootInfo.maxConfigurationWindows)
        }
    }

    /// Parses the root ELF where the loader put it; its segments must lie in user space below the physical window.
    private func rootImage() throws(BootError) -> ELFImage {
        let base = configuration.rootImage.base
        let image: ELFImage
        do throws(ELFError) {
            image = try ELFImage(size: configuration.rootImage.size) { self.readPhysicalByte(base + $0) }
        } catch {
            throw .badRootImage(error)
        }
        for segment in image.segments
        where segment.firstPage < AddressLayout.userBase || segment.endPage > AddressLayout.physicalWindow {
            throw .rootSegmentOutOfPlace(index: segment.index, virtualAddress: segment.virtualAddress)
        }
        return image
    }

    func readPhysicalByte(_ address: UInt64) -> UInt8 {
        UInt8(truncatingIfNeeded: platform.readPhysical(address & ~7) >> ((address & 7) * 8))
    }

    private func copyImageBytes(_ segment: ELFSegment, page: UInt64, to frame: UInt64) {
        let imageBase = configuration.rootImage.base
        for word in 0..<AddressLayout.pageSize / 8 {
            var value: UInt64 = 0
            for byte in 0..<UInt64(8) {
                if let offset = segment.fileOffset(ofVirtual: page + word * 8 + byte) {
                    value |= UInt64(readPhysicalByte(imageBase + offset)) << (byte * 8)
                }
            }
            if value != 0 { platform.writePhysical(frame + word * 8, value) }
        }
    }

    /// Identity map of physical memory with 2 MiB supervisor pages: the kernel's PML4 slot 0, shared by all PDs.
    private func buildKernelMap() throws(BootError) {
        var highest = Self.minimumIdentityMap
        for r in configuration.freeMemory + [configuration.rootImage, configuration.bundle] {
            highest = max(highest, r.end)
        }
        let gigabytes = (highest + (1 << 30) - 1) >> 30
        guard let pdpt = frames.allocate(), let root = frames.allocate() else { throw poolExhausted() }
        platform.zeroPage(pdpt)
        platform.zeroPage(root)
        kernelMapFrames = [pdpt, root]
        for g in 0..<gigabytes {
            guard let directory = frames.allocate() else { throw poolExhausted() }
            kernelMapFrames.append(directory)
            for i in UInt64(0)..<512 {
                let physical = g << 30 | i << 21
                platform.writePhysical(directory + i * 8, physical | PageTableEntry.kernelTable | PageTableEntry.largePage)
            }
            platform.writePhysical(pdpt + g * 8, directory | PageTableEntry.kernelTable)
        }
        platform.writePhysical(root, pdpt | PageTableEntry.kernelTable)
        kernelPDPT = pdpt
        kernelRoot = root
        platform.activateAddressSpace(root: root)
    }

    private func poolExhausted() -> BootError {
        .notEnoughMemory(neededPages: frames.totalCount + 1, availablePages: frames.totalCount)
    }

    private func makeRootPD() throws(BootError) -> ProtectionDomain {
        guard let pml4 = frames.allocate() else { throw poolExhausted() }
        let root = ProtectionDomain(id: makeID(), pageTableRoot: pml4, quotaLimit: frames.freeCount + 1, creator: nil,
                                    rights: Permissions.pdCreate | Permissions.pdConsole | Permissions.pdVM)
        _ = root.charge(1)
        initializeAddressSpace(pml4)
        protectionDomains.append(root)
        rootPD = root
        return root
    }

    /// Gives the root PD an original memory capability of one page and maps it.
    private func grantBootMemory(_ root: ProtectionDomain, virtualAddress: UInt64, physical: UInt64,
                                 permissions: UInt64) throws(BootError) {
        try grantBootMemory(root, virtualPage: virtualAddress >> AddressLayout.pageShift, order: 0,
                            physical: physical, permissions: permissions)
    }

    /// Gives the root PD physical memory `range` at its place in the physical window, as aligned ranges.
    private func grantBootRanges(_ root: ProtectionDomain, _ range: PhysicalRange,
                                 permissions: UInt64) throws(BootError) {
        let firstPage = range.base >> AddressLayout.pageShift
        for (page, order) in CapabilityRange.alignedBlocks(first: firstPage, count: range.size >> AddressLayout.pageShift) {
            try grantBootMemory(root, virtualPage: (AddressLayout.physicalWindow >> AddressLayout.pageShift) + page,
                                order: order, physical: page << AddressLayout.pageShift, permissions: permissions)
        }
    }

    private func grantBootMemory(_ root: ProtectionDomain, virtualPage: UInt64, order: UInt64, physical: UInt64,
                                 permissions: UInt64) throws(BootError) {
        let cap = Capability(kind: .memory, holder: root, key: virtualPage, order: order, resource: physical,
                             object: nil, permissions: permissions, parent: nil)
        guard map(cap) else { throw poolExhausted() }
        root.space.insert(cap)
    }

    private func makeRootObjects(_ root: ProtectionDomain, entry: UInt64) throws(BootError) {
        root.space.insert(Capability(
            kind: .object, holder: root, key: RootSelectors.ownPD, resource: 0, object: .pd(root),
            permissions: Permissions.all, parent: nil))
        let ec: ExecutionContext
        do throws(Failure) {
            ec = try makeEC(in: root, chargedTo: root, global: true, eventBase: RootSelectors.rootEventBase,
                            utcb: AddressLayout.rootUTCB, stackPointer: AddressLayout.rootStackTop, entry: entry)
        } catch {
            throw poolExhausted()
        }
        ec.context.rdi = AddressLayout.rootBootInfo
        rootEC = ec
        insertOriginal(.ec(ec), in: root, at: RootSelectors.ownEC, permissions: Permissions.all)
        let sc = SchedulingContext(id: makeID(), ec: ec, priority: Self.rootPriority,
                                   budget: Self.rootBudgetMilliseconds * configuration.ticksPerMillisecond,
                                   chargedTo: nil)
        bind(sc, to: ec)
        root.space.insert(Capability(
            kind: .object, holder: root, key: RootSelectors.ownSC, resource: 0, object: .sc(sc),
            permissions: Permissions.all, parent: nil))
        for irq in 0..<configuration.interruptCount {
            let sm = Semaphore(id: makeID(), count: 0, irq: irq, chargedTo: nil)
            interruptSemaphores.append(sm)
            let selector = RootSelectors.interruptBase + irq
            root.space.insert(Capability(
                kind: .object, holder: root, key: selector, resource: 0, object: .sm(sm),
                permissions: Permissions.all, parent: nil))
        }
        // Every message interrupt number has its semaphore (assign_int refuses those the machine has no vector for).
        for index in 0..<RootSelectors.messageCount {
            let number = RootSelectors.lineCount + index
            let sm = Semaphore(id: makeID(), count: 0, irq: number, chargedTo: nil)
            messageSemaphores.append(sm)
            root.space.insert(Capability(
                kind: .object, holder: root, key: RootSelectors.interruptBase + number, resource: 0, object: .sm(sm),
                permissions: Permissions.all, parent: nil))
        }
    }
}

/// Hands out whole pages from a list of ranges, front to back.
struct RangeCarver {
    private(set) var rest: [PhysicalRange]

    init(_ ranges: [PhysicalRange]) { rest = ranges }

    mutating func take(pages: UInt64) -> [PhysicalRange] {
        var taken: [PhysicalRange] = []
        var needed = pages * AddressLayout.pageSize
        while needed > 0, !rest.isEmpty {
            let chunk = min(needed, rest[0].size)
            taken.append(PhysicalRange(base: rest[0].base, size: chunk))
            needed -= chunk
            if chunk == rest[0].size { rest.removeFirst() } else {
                rest[0] = PhysicalRange(base: rest[0].base + chunk, size: rest[0].size - chunk)
            }
        }
        return taken
    }
}
