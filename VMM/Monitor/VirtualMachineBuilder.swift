import BlockService
import KernelABI
import ManifestFormat
import UserRuntime

/// Builds one VM: VM PD, guest RAM, image, handlers, exit portals, vCPUs (VMMMain.swift says the layout).
struct VirtualMachineBuilder<P: UserPlatform> {
    let platform: P
    let info: ComponentStartInfo
    let number: Int
    /// Global number of this VM's first handler (handler `h` is entry slot 1 + h, UTCB `handlerUTCB(h)`).
    let handlerBase: Int

    var sys: SystemCalls<P> { SystemCalls(platform) }

    /// The state groups each exit's portal asks for: what its handler reads (ExitHandler.swift).
    static func transferDescriptor(for exit: UInt64) -> UInt64 {
        switch exit {
        case VMExit.cpuid: return TransferDescriptor.generalRegisters | TransferDescriptor.instructionPointer
        case VMExit.hlt:
            return TransferDescriptor.instructionPointer | TransferDescriptor.stack | TransferDescriptor.interruptState
        default: return TransferDescriptor.all
        }
    }

    func build(_ vm: ComponentStartInfo.VirtualMachine) -> Result<Void, BuildError> {
        guard vm.ramAddress != 0, vm.memory > 0, vm.vcpus >= 1, vm.vcpus <= VMMLayout.maxVCPUs else {
            return .failure(.noResources(vm.vcpus))
        }
        let memory = GuestMemory(platform: platform, base: vm.ramAddress, size: vm.memory)
        let control = VMControlBlock(platform: platform, base: info.heapBase + UInt64(number) * VMControlBlock<P>.bytes)
        control.ramAddress = vm.ramAddress
        control.ramSize = vm.memory
        control.stopped = false
        control.name = vm.name
        // The image, then the VM PD and its RAM (what the VMM holds at ramAddress, delegated range by range).
        let imageBase = vm.imageAddress, initrdBase = vm.initrdAddress
        if vm.isKernel && LinuxGuestLoader.isBzImage(size: vm.imageSize, byte: { platform.load8(imageBase + $0) }) {
            if case .failure(let e) = buildPC(vm, memory: memory, control: control) { return .failure(.image(e)) }
            return createVM(vm, memory: memory, allExits: true)
        }
        if vm.isKernel && MultibootLoader.header(size: vm.imageSize, byte: { platform.load8(imageBase + $0) }) == nil {
            return .failure(.image(.linuxImage("the kernel is neither a bzImage (no \"HdrS\" at offset 0x202) nor a "
                                               + "Multiboot image (no header in its first 8 KiB)")))
        }
        // Only a Linux guest's PC has the virtio-blk function: a disk given to anything else would go unused.
        if vm.diskAddress != 0 || !vm.diskService.isEmpty { return .failure(.image(.diskWithoutPC)) }
        var extras = MultibootLoader.Extras()
        if vm.isKernel {
            extras.commandLine = vm.image + (vm.commandLine.isEmpty ? [] : [0x20] + vm.commandLine)
            if initrdBase != 0 {
                extras.moduleName = vm.initrdName
                extras.moduleSize = vm.initrdSize
                extras.moduleByte = { platform.load8(initrdBase + $0) }
            }
        }
        let entry: GuestLoader.Entry
        switch GuestLoader.load(size: vm.imageSize, imageByte: { platform.load8(imageBase + $0) }, extras: extras,
                                into: memory) {
        case .success(let e): entry = e
        case .failure(let e): return .failure(.image(e))
        }
        control.entryRIP = entry.rip
        control.entryRSP = entry.rsp
        control.entryProtectedMode = entry.protectedMode
        return createVM(vm, memory: memory, allExits: false)
    }

    /// A Linux guest's PC (devices, disk) and its loaded kernel; the PC goes into the VMM's device table.
    private func buildPC(_ vm: ComponentStartInfo.VirtualMachine, memory: GuestMemory<P>,
                         control: VMControlBlock<P>) -> Result<Void, LoadError> {
        var disk: GuestDisk<P>?
        if vm.diskAddress != 0 {
            guard vm.diskSize > 0 else { return .failure(.missingDisk) }
            disk = .module(ModuleBlockStore(platform: platform, base: vm.diskAddress, size: vm.diskSize))
        } else if !vm.diskService.isEmpty {
            switch connectDiskService(vm) {
            case .success(let store): disk = .service(store)
            case .failure(let e):
                return .failure(.diskService(String(decoding: vm.diskService, as: UTF8.self), e.description))
            }
        }
        let machine: PCMachine<P>
        do throws(MachineError) {
            machine = try PCMachine(memory: memory, disk: disk,
                                    clock: GuestClock(start: platform.timestamp(), ticksPerMillisecond: info.ticksPerMillisecond))
        } catch {
            return .failure(.machine(error.description))
        }
        if case .failure(let e) = LinuxGuestLoader.load(vm, platform: platform, into: machine.ram, control: control) {
            return .failure(e)
        }
        guard let table = VMMDeviceTable<P>.current(platform) else { return .failure(.machine("no device table")) }
        table.machines[number] = machine
        return .success(())
    }

    /// The VM's route to its disk service: a session from this (the main) EC's UTCB on this VM's buffer, which the
    /// exit handlers then bind to themselves. The buffer is the slot-th after the control blocks, counted over the
    /// VMs with a disk service before this one.
    private func connectDiskService(_ vm: ComponentStartInfo.VirtualMachine) -> Result<BlockServiceStore<P>, DiskServiceError> {
        guard let portal = info.portal(forService: vm.diskService) else { return .failure(.noRoute(vm.diskService)) }
        let slot = info.vms[..<number].filter { !$0.diskService.isEmpty }.count
        let offset = VMMLayout.diskBufferOffset(vms: info.vms.count, slot: slot)
        guard offset + VMMLayout.diskBufferBytes <= info.heapSize else {
            return .failure(.noBuffer(needed: offset + VMMLayout.diskBufferBytes, have: info.heapSize))
        }
        let buffer = info.heapBase + offset
        let session = BlockSession(client: BlockClient(utcb: UTCB(platform: platform, base: ComponentLayout.utcb), portal: portal),
                                   bufferPage: buffer >> AddressLayout.pageShift, bufferOrder: VMMLayout.diskBufferOrder,
                                   sleepSM: VMMLayout.diskSleepSM(number), ticksPerMillisecond: info.ticksPerMillisecond)
        return BlockServiceStore.connect(session: session, platform: platform, bufferAddress: buffer,
                                         bufferOrder: VMMLayout.diskBufferOrder)
    }

    /// The VM PD with the RAM, and per vCPU its handler, exit portals, the vCPU and its SC. `allExits`: every portal
    /// transfers the whole state (a PC guest's exits may all inject interrupts and touch devices).
    private func createVM(_ vm: ComponentStartInfo.VirtualMachine, memory: GuestMemory<P>,
                          allExits: Bool) -> Result<Void, BuildError> {
        let vmPD = VMMLayout.vmPD(number)
        var status = sys.createVM(vmPD, quotaPages: 1 &+ KernelQuota.nestedTablePages(memory: vm.memory))
        guard status == .success else { return .failure(.hypercall("creating the VM PD", status)) }
        var page: UInt64 = 0
        let pages = vm.memory >> AddressLayout.pageShift
        while page < pages {
            let (found) = sys.lookup(CapabilityRange(kind: .memory, base: (vm.ramAddress >> AddressLayout.pageShift) + page, permissions: 0))
            guard let held = found.found, held.kind == .memory else { return .failure(.ramMissing(page)) }
            // Delegate the part of the held range from `page` on, as aligned blocks.
            let heldEnd = held.base + held.count - (vm.ramAddress >> AddressLayout.pageShift)
            let end = min(heldEnd, pages)
            for (base, order) in CapabilityRange.alignedBlocks(first: page, count: end - page) {
                status = sys.delegate(pd: vmPD, source: CapabilityRange(kind: .memory, base: (vm.ramAddress >> AddressLayout.pageShift) + base,
                                                                         order: order, permissions: Permissions.memoryAll),
                                      destinationBase: base)
                guard status == .success else { return .failure(.hypercall("delegating guest RAM", status)) }
            }
            page = end
        }
        for v in 0..<vm.vcpus {
            let h = handlerBase + Int(v)
            let handler = VMMLayout.handlerEC(number, v)
            let stackTop = info.heapBase + info.heapSize - UInt64(h) * VMMLayout.handlerStackBytes
            status = sys.createEC(handler, pd: ComponentSelectors.ownPD, utcb: VMMLayout.handlerUTCB(h),
                                  stackPointer: stackTop,
                                  entry: EntryTable.address(entry: info.entry, slot: VMMLayout.exitHandlerSlot + h),
                                  global: false, eventBase: ComponentSelectors.eventBase)
            guard status == .success else { return .failure(.hypercall("creating a handler EC", status)) }
            _ = sys.createSM(VMMLayout.parkSM(number, v), count: 0)
            for exit in 0..<VMExit.count {
                status = sys.createPT(VMMLayout.eventBase(number, v) + exit, ec: handler,
                                      entry: EntryTable.address(entry: info.entry, slot: VMMLayout.exitHandlerSlot + h),
                                      portalID: VMMLayout.portalID(vm: number, vcpu: v, exit: exit),
                                      mtd: allExits ? TransferDescriptor.all : Self.transferDescriptor(for: exit))
                guard status == .success else { return .failure(.hypercall("creating exit portal \(exit)", status)) }
            }
            status = sys.createVCPU(VMMLayout.vcpuEC(number, v), vm: vmPD, eventBase: VMMLayout.eventBase(number, v))
            guard status == .success else { return .failure(.hypercall("creating vCPU \(v)", status)) }
            status = sys.createSC(VMMLayout.vcpuSC(number, v), ec: VMMLayout.vcpuEC(number, v), priority: 1,
                                  budget: info.ticksPerMillisecond * 2)
            guard status == .success else { return .failure(.hypercall("creating the SC of vCPU \(v)", status)) }
        }
        return .success(())
    }
}

enum BuildError: Error, CustomStringConvertible {
    case noResources(UInt64)
    case image(LoadError)
    case ramMissing(UInt64)
    case hypercall(String, Status)

    var description: String {
        switch self {
        case .noResources(let vcpus):
            return "the root task gave no guest RAM, or \(vcpus) vCPUs is outside 1...\(VMMLayout.maxVCPUs)"
        case .image(let e): return e.description
        case .ramMissing(let page): return "guest RAM page \(page) is not where the start info says"
        case .hypercall(let what, let status): return what + " failed: \(status)"
        }
    }
}
