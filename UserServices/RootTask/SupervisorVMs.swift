import BootFormat
import KernelABI
import ManifestFormat
import UserRuntime

/// VM grants: what the root task gives a VMM for each VM the manifest says it runs: the guest's RAM as aligned
/// blocks (delegated read/write/execute at `ComponentLayout.guestRAM + i * guestRAMStride`, so the VMM can delegate them on
/// into its VM PD at guest-physical 0 and keep its own view), the guest image, initrd and disk modules (read-only,
/// each in its own window, `ComponentLayout.guestModuleWindow`), and in its start-info page where all that is and
/// the command line. Guest RAM comes only from
/// memory no component has used (`PageAllocator.allocateBlock`); given back, it is reused page by page and zeroed
/// then like every component page, so no tenant sees another's guest memory.
extension Supervisor {
    /// Delegates every VM's RAM and image into the VMM at `index` and records what it gave (for the start info and
    /// for teardown).
    func grantVMs(_ index: Int) throws(RootError) {
        var granted: [ComponentStartInfo.VirtualMachine] = []
        for (i, vm) in system.vms(runBy: index).enumerated() {
            let ramAddress = ComponentLayout.guestRAM + UInt64(i) * ComponentLayout.guestRAMStride
            let pagesNeeded = (vm.memory + AddressLayout.pageSize - 1) / AddressLayout.pageSize
            for (offset, order) in CapabilityRange.alignedBlocks(first: 0, count: pagesNeeded).sorted(by: { $0.order > $1.order }) {
                guard let physical = pages.allocateBlock(order: order) else {
                    throw .outOfMemory(component: name(index) + " (guest RAM of VM " + vm.name.description + ")")
                }
                records[index].guestBlocks.append((physical, order))
                // Read, write and execute: rights only shrink, and the guest must be able to run code from it.
                let source = CapabilityRange(kind: .memory, base: (AddressLayout.physicalWindow + physical) >> AddressLayout.pageShift,
                                             order: order, permissions: Permissions.memoryAll)
                try check(sys.delegate(pd: records[index].pd, source: source,
                                       destinationBase: (ramAddress >> AddressLayout.pageShift) + offset),
                          "giving \(name(index)) the RAM of VM \(vm.name)")
            }
            let (imageAddress, imageSize) = try grantModule(imageName(vm), of: vm, number: i, window: .image, to: index)
            var record = ComponentStartInfo.VirtualMachine(name: vm.name.bytes, image: imageName(vm).bytes,
                                                           memory: vm.memory, vcpus: vm.vcpus, nested: vm.nested,
                                                           ramAddress: ramAddress, imageAddress: imageAddress,
                                                           imageSize: imageSize)
            if case .kernel(_, let initrd, let commandLine) = vm.image {
                record.isKernel = true
                record.commandLine = commandLine.bytes
                if let initrd {
                    record.initrdName = initrd.bytes
                    (record.initrdAddress, record.initrdSize) = try grantModule(initrd, of: vm, number: i,
                                                                                window: .initrd, to: index)
                }
            }
            if let disk = vm.disk {
                (record.diskAddress, record.diskSize) = try grantModule(disk, of: vm, number: i, window: .disk, to: index)
            }
            // A disk served by a block service: the VMM's own route of that name (granted with its uses) reaches it.
            if let route = vm.diskService { record.diskService = route.bytes }
            granted.append(record)
        }
        records[index].vms = granted
    }

    /// A module's pages (guest image, initrd or disk), read-only, at the same offset within its 4 GiB-aligned window
    /// as in the root's physical window (so every aligned block lands aligned).
    private func grantModule(_ moduleName: ManifestString, of vm: VirtualMachineDescription, number i: Int,
                             window: ComponentLayout.GuestModule, to index: Int) throws(RootError) -> (UInt64, UInt64) {
        let module = moduleName.description
        guard let entry = bundle.entry(named: module) else {
            throw .missingModule(name: module, what: "VM \(vm.name) of \(name(index))")
        }
        let start = bundleBase + entry.offset
        let firstPage = start >> AddressLayout.pageShift
        let endPage = (start + entry.size + AddressLayout.pageSize - 1) >> AddressLayout.pageShift
        let windowPage = ComponentLayout.guestModuleWindow(vm: i, window) >> AddressLayout.pageShift
        let strideMask = (ComponentLayout.guestImageStride >> AddressLayout.pageShift) - 1
        let base = firstPage & ~strideMask
        for (page, order) in CapabilityRange.alignedBlocks(first: firstPage, count: endPage - firstPage) {
            let source = CapabilityRange(kind: .memory, base: page, order: order, permissions: Permissions.read)
            try check(sys.delegate(pd: records[index].pd, source: source, destinationBase: windowPage + (page - base)),
                      "giving \(name(index)) the module \(module) of VM \(vm.name)")
        }
        return ((windowPage + (firstPage - base)) << AddressLayout.pageShift | (start & (AddressLayout.pageSize - 1)),
                entry.size)
    }

    private func imageName(_ vm: VirtualMachineDescription) -> ManifestString {
        switch vm.image {
        case .kernel(let kernel, _, _): return kernel
        case .testImage(let test): return test
        }
    }

    /// Takes back what `grantVMs` gave (the VMM is gone): its RAM blocks return to the allocator page by page.
    func revokeVMs(_ index: Int) {
        for (physical, order) in records[index].guestBlocks {
            let window = CapabilityRange(kind: .memory, base: (AddressLayout.physicalWindow + physical) >> AddressLayout.pageShift,
                                         order: order, permissions: Permissions.memoryAll)
            _ = sys.revoke(window, includeSelf: false)
            pages.freeBlock(physical, order: order)
        }
        records[index].guestBlocks = []
        records[index].vms = []
        records[index].endedVMs = []
    }

    func virtualMachines(runBy index: Int) -> [ComponentStartInfo.VirtualMachine] { records[index].vms }
}
