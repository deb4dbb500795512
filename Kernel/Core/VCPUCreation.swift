import KernelABI

/// Making a vCPU: an EC of a VM PD with the platform's state frames instead of a UTCB, charged in full to its
/// creator (the VMM), whose object space holds its exit portals.
extension Kernel {
    /// Quota a vCPU costs its creator: one page per platform state frame.
    var vcpuQuotaPages: UInt64 { platform.guestStateFrames }

    func makeVCPU(in vm: ProtectionDomain, createdBy vmm: ProtectionDomain,
                  eventBase: UInt64) throws(Failure) -> ExecutionContext {
        let count = max(platform.guestStateFrames, 1)
        guard vmm.charge(count) else { throw .outOfMemory }
        var taken: [UInt64] = []
        for _ in 0..<count {
            guard let frame = frames.allocate() else {
                for frame in taken { frames.free(frame) }
                vmm.refund(count)
                throw .outOfMemory
            }
            platform.zeroPage(frame)
            taken.append(frame)
        }
        let ec = ExecutionContext(id: makeID(), pd: vm, isGlobal: true, eventBase: eventBase, utcbAddress: 0,
                                  utcbFrame: taken[0], stackPointer: 0, entry: 0, chargedTo: vmm)
        ec.vcpu = VirtualCPU(vmm: vmm, nestedRoot: vm.pageTableRoot, frames: taken)
        ec.startupPending = true
        executionContexts.append(ec)
        return ec
    }
}
