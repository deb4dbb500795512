import KernelABI
import UserRuntime

/// Where the VMM keeps each VM's kernel objects and state. VM `i` owns selectors `vmBase(i) ..< vmBase(i) + 2048`:
/// its VM PD, per vCPU a handler EC, the vCPU and its SC, and per vCPU the 64 exit portals (`VMExit.count`) at the
/// vCPU's event base. Handler UTCBs follow the main UTCB; the VM control blocks, the disk buffers (VMs with a
/// `disk_service`) and the handler stacks live in the heap region the root task gave (`ComponentStartInfo.heapBase`):
/// control blocks from its start, then the disk buffers (each naturally aligned, as a delegated block must be), the
/// stacks down from its end.
enum VMMLayout {
    static let maxVMs = 4
    static let maxVCPUs: UInt64 = 8
    /// Exit handlers in all VMs (one per vCPU; each is its own entry slot 1 ... maxHandlers).
    static let maxHandlers = 8
    static let selectorsPerVM: UInt64 = 2048
    /// Room for the MMIO path (decoder and emulator frames) of a Linux guest's exits; 4 VMs with one vCPU each
    /// must fit the 128 KiB heap region the root task gives at most.
    static let handlerStackBytes: UInt64 = 24 << 10
    static let idleSM: UInt64 = ComponentSelectors.firstFree
    /// Entry-table slot of `vmmExitPortal`.
    static let exitHandlerSlot = 1

    static func vmBase(_ vm: Int) -> UInt64 { ComponentSelectors.firstFree + 16 + UInt64(vm) * selectorsPerVM }
    static func vmPD(_ vm: Int) -> UInt64 { vmBase(vm) }
    static func handlerEC(_ vm: Int, _ vcpu: UInt64) -> UInt64 { vmBase(vm) + 1 + vcpu }
    static func vcpuEC(_ vm: Int, _ vcpu: UInt64) -> UInt64 { vmBase(vm) + 16 + vcpu }
    static func vcpuSC(_ vm: Int, _ vcpu: UInt64) -> UInt64 { vmBase(vm) + 32 + vcpu }
    /// A semaphore per vCPU its handler blocks on when the vCPU must not run (stopped VM, secondary vCPU).
    static func parkSM(_ vm: Int, _ vcpu: UInt64) -> UInt64 { vmBase(vm) + 48 + vcpu }
    static func eventBase(_ vm: Int, _ vcpu: UInt64) -> UInt64 { vmBase(vm) + 1024 - (1024 % VMExit.count) + vcpu * VMExit.count }

    /// The UTCB of global handler `h`.
    static func handlerUTCB(_ h: Int) -> UInt64 { ComponentLayout.firstFreeUTCB + UInt64(h) * AddressLayout.pageSize }

    /// What a portal's id says: which VM and vCPU, and the exit (the kernel also writes the exit into the UTCB).
    static func portalID(vm: Int, vcpu: UInt64, exit: UInt64) -> UInt64 { UInt64(vm) << 16 | vcpu << 8 | exit }
    static func vm(ofPortal id: UInt64) -> Int { Int((id >> 16) & 0xff) }
    static func vcpu(ofPortal id: UInt64) -> UInt64 { (id >> 8) & 0xff }

    /// Bytes of heap region the VMM needs for `vms` VMs with `vcpus` vCPUs in all, `diskBuffers` of them with a
    /// disk service.
    static func heapBytes(vms: Int, vcpus: UInt64, diskBuffers: Int = 0) -> UInt64 {
        let below = diskBuffers == 0 ? UInt64(vms) * vmControlBlockBytes : diskBufferOffset(vms: vms, slot: diskBuffers)
        return below + vcpus * handlerStackBytes
    }

    /// A disk service's bounce buffer: `1 << diskBufferOrder` pages (32 KiB: one 1 VM, 1 vCPU VMM fits it with its
    /// control block and stack in the 128 KiB region; a larger guest request takes several block requests).
    static let diskBufferOrder: UInt64 = 3
    static var diskBufferBytes: UInt64 { AddressLayout.pageSize << diskBufferOrder }
    /// Where buffer `slot` (the slot-th VM with a disk service) starts in the heap region, after the control blocks.
    static func diskBufferOffset(vms: Int, slot: Int) -> UInt64 {
        let first = (UInt64(vms) * vmControlBlockBytes + diskBufferBytes - 1) / diskBufferBytes * diskBufferBytes
        return first + UInt64(slot) * diskBufferBytes
    }
    /// The semaphore a VM's disk service session sleeps on while its driver restarts (selectors between `idleSM`
    /// and the first VM's range: `maxVMs` fit).
    static func diskSleepSM(_ vm: Int) -> UInt64 { ComponentSelectors.firstFree + 1 + UInt64(vm) }
}
