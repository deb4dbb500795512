import KernelABI
import UserRuntime

/// The "vmcheck" test component (a VMM in miniature; Tests/ImageTests/Manifests/vm.toml on the image, VMCheckBootTests
/// in the simulator): it builds a VM with one vCPU running a tiny real-mode guest (`VMCheckGuest`) and checks each
/// exit its handler gets, printing `vmcheck: PASS <name>` or `vmcheck: FAIL <name>: why` through the "log" service.
/// The same lines come out on both machines (a test compares them); the benchmark line's figure differs.
///
/// Memory: the manifest's one VM record gives vmcheck guest RAM (read/write/execute, at `ramAddress`); its first
/// `VMCheckLayout.guestPages` pages are delegated to the VM at guest-physical 0 (still mapped here, so vmcheck
/// writes the guest's code). The heap's first page holds the handler's state, its top the handler's stack.
public func vmCheckMain<P: UserPlatform>(_ platform: P, startInfo: UInt64) {
    guard let info = try? ComponentStartInfo.read(platform, at: ComponentStartInfo.address(entryArgument: startInfo)),
          let portal = info.portal(forService: "log")
    else {
        _ = platform.load64(0) // no way to speak: a fault is the only message left (the root reports it)
        return
    }
    let log = LogClient(utcb: UTCB(platform: platform, base: ComponentLayout.utcb), portal: portal)
    let sys = SystemCalls(platform)
    if let problem = buildVM(platform, info) {
        _ = log.write("vmcheck: FAIL setup: \(problem)\n")
    } else {
        // Before the vCPU runs (its SC has a lower priority than this EC): what a hostile VMM may not do.
        runHostileCalls(platform, info) { _ = log.write("vmcheck: " + $0 + "\n") }
    }
    // The handler EC does the rest; wait on a semaphore nobody ups (returning would stop the EC with a fault).
    _ = sys.createSM(VMCheckLayout.idleSM, count: 0)
    while sys.down(sm: VMCheckLayout.idleSM) == .success {}
}

/// Selectors, addresses and sizes of vmcheck's VM.
enum VMCheckLayout {
    static let vm: UInt64 = ComponentSelectors.firstFree
    static let handlerEC: UInt64 = ComponentSelectors.firstFree + 1
    static let vcpu: UInt64 = ComponentSelectors.firstFree + 2
    static let vcpuSC: UInt64 = ComponentSelectors.firstFree + 3
    static let idleSM: UInt64 = ComponentSelectors.firstFree + 4
    static let handlerIdleSM: UInt64 = ComponentSelectors.firstFree + 5
    /// Exit `n` of the vCPU calls the portal at `exitBase + n`.
    static let exitBase: UInt64 = 512
    static let handlerUTCB: UInt64 = ComponentLayout.firstFreeUTCB
    static let handlerSlot = 1
    /// Guest memory: 4 pages (16 KiB, one order-2 range) at guest-physical 0.
    static let guestOrder: UInt64 = 2
    static let guestPages: UInt64 = 1 << guestOrder
    /// The handler's state: word 0 = the next step (`VMCheckStep`), word 1 = the log portal selector, word 2 =
    /// where vmcheck sees the guest's memory, word 3 = the hostile reply being tried.
    static let statePage: UInt64 = ComponentLayout.heapBase
    static let stackPages: UInt64 = 4
    static let heapNeeded: UInt64 = (1 + stackPages) * AddressLayout.pageSize
    /// Kernel quota for the VM PD (its nested page tables).
    static let vmQuotaPages: UInt64 = 12
    static let vcpuPriority: UInt64 = 5
    static let vcpuBudgetMilliseconds: UInt64 = 10
    /// The exits vmcheck expects, each with the state groups its portal transfers.
    static let exits: [(exit: UInt64, mtd: UInt64)] = [
        (VMExit.startup, TransferDescriptor.all),
        // CPUID is the benchmark's exit: what a VMM needs to emulate it, nothing more.
        (VMExit.cpuid, TransferDescriptor.generalRegisters | TransferDescriptor.instructionPointer
            | TransferDescriptor.qualification),
        (VMExit.io, TransferDescriptor.all),
        (VMExit.hlt, TransferDescriptor.all),
        (VMExit.nestedPageFault, TransferDescriptor.all),
        (VMExit.hypercall, TransferDescriptor.all),
        (VMExit.failedEntry, TransferDescriptor.all),
    ]
}

/// Makes the VM: VM PD, guest memory with the guest's code, handler EC, exit portals, vCPU and its SC. Returns what
/// failed, or nil.
func buildVM<P: UserPlatform>(_ platform: P, _ info: ComponentStartInfo) -> String? {
    typealias L = VMCheckLayout
    let sys = SystemCalls(platform)
    guard info.heapBase == ComponentLayout.heapBase, info.heapSize >= L.heapNeeded else {
        return "the heap is \(info.heapSize) bytes, vmcheck needs \(L.heapNeeded)"
    }
    guard let vm = info.vms.first, vm.ramAddress != 0, vm.memory >= L.guestPages * AddressLayout.pageSize else {
        return "the manifest gives vmcheck no VM with at least \(L.guestPages) pages of guest RAM"
    }
    for (i, byte) in VMCheckGuest.code.enumerated() {
        platform.store8(vm.ramAddress + VMCheckGuest.entry + UInt64(i), byte)
    }
    // IVT vector 6 (#UD) -> 0:hypercallAfterInvalidOpcode.
    let invalidOpcodeHandler = VMCheckGuest.hypercallAfterInvalidOpcode
    for (i, byte) in [UInt8(truncatingIfNeeded: invalidOpcodeHandler), UInt8(truncatingIfNeeded: invalidOpcodeHandler >> 8),
                      0, 0].enumerated() {
        platform.store8(vm.ramAddress + 6 * 4 + UInt64(i), byte)
    }
    platform.store64(L.statePage, VMCheckStep.startup)
    platform.store64(L.statePage + 8, info.portal(forService: "log") ?? 0)
    platform.store64(L.statePage + 16, vm.ramAddress)
    var status = sys.createVM(L.vm, quotaPages: L.vmQuotaPages)
    guard status == .success else { return "create_pd(vm) returned \(status.description)" }
    let memory = CapabilityRange(kind: .memory, base: vm.ramAddress >> AddressLayout.pageShift, order: L.guestOrder,
                                 permissions: Permissions.read | Permissions.write | Permissions.execute)
    status = sys.delegate(pd: L.vm, source: memory, destinationBase: 0)
    guard status == .success else { return "delegating guest memory returned \(status.description)" }
    let handler = EntryTable.address(entry: info.entry, slot: L.handlerSlot)
    status = sys.createEC(L.handlerEC, pd: ComponentSelectors.ownPD, utcb: L.handlerUTCB,
                          stackPointer: info.heapBase + info.heapSize, entry: handler, global: false,
                          eventBase: ComponentSelectors.eventBase)
    guard status == .success else { return "create_ec(handler) returned \(status.description)" }
    for (exit, mtd) in L.exits {
        status = sys.createPT(L.exitBase + exit, ec: L.handlerEC, entry: handler, portalID: exit, mtd: mtd)
        guard status == .success else { return "create_pt(exit \(exit)) returned \(status.description)" }
    }
    status = sys.createVCPU(L.vcpu, vm: L.vm, eventBase: L.exitBase)
    guard status == .success else { return "create_ec(vcpu) returned \(status.description)" }
    status = sys.createSC(L.vcpuSC, ec: L.vcpu, priority: L.vcpuPriority,
                          budget: L.vcpuBudgetMilliseconds * info.ticksPerMillisecond)
    guard status == .success else { return "create_sc(vcpu) returned \(status.description)" }
    return nil
}
