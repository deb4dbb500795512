import KernelABI

/// DMA remapping: which PD a PCI device's DMA reaches. `assign_dev` (root only) binds a device, by its PCI
/// requester ID (bus << 8 | device << 3 | function), to a PD; from then on the device's DMA goes through the PD's
/// DMA table (`VTdEntry`), which the kernel keeps equal to the PD's memory capabilities: device address = the PD's
/// own memory key (its virtual page; a VM PD's guest-physical page), rights read or read/write. Every memory
/// capability that lands is mapped there too, every one that goes is unmapped and the device translations are
/// flushed before the revoke returns. An unbound device's DMA is blocked (where the platform has an IOMMU).
extension Kernel {
    /// assign_dev(pd, requester, flags).
    func assignDevice(by caller: ExecutionContext, pd selector: UInt64, requester: UInt64,
                      flags: UInt64) throws(Failure) -> Completion {
        guard caller.pd === rootPD else { throw .insufficientRights }
        let pd = try resolvePD(caller.pd, selector, needs: 0)
        guard requester < 1 << 16, flags & ~AssignFlags.release == 0 else { throw .badRange }
        guard platform.dmaRemapping else { throw .badState }
        if flags & AssignFlags.release != 0 {
            guard deviceBindings[requester] === pd else { throw .badState }
            unbindDevice(requester)
            return .success
        }
        guard deviceBindings[requester] == nil else { throw .badState }
        if pd.dmaRoot == nil { guard createDMATable(for: pd) else { throw .outOfMemory } }
        guard platform.bindDevice(requester, root: pd.dmaRoot) else { throw .outOfMemory }
        deviceBindings[requester] = pd
        return .success
    }

    /// The device's DMA is blocked again (context entry gone, its translations flushed by the platform), and the
    /// message interrupts assigned for it are released (their remapping entries not present): a device that moves
    /// to another PD cannot raise the old owner's semaphores.
    func unbindDevice(_ requester: UInt64) {
        deviceBindings[requester] = nil
        _ = platform.bindDevice(requester, root: nil) // unbinding cannot fail
        for sm in messageSemaphores where sm.interruptAssigned && sm.interruptRequester == requester {
            releaseInterrupt(sm)
        }
    }

    /// A DMA table mirroring everything `pd` holds now; false (nothing left behind) when its quota or the pool
    /// cannot pay for it.
    private func createDMATable(for pd: ProtectionDomain) -> Bool {
        pd.dmaTableFrames = []
        guard let root = chargedTableFrame(pd, recordedIn: &pd.dmaTableFrames) else { return false }
        platform.zeroPage(root)
        pd.dmaRoot = root
        for cap in pd.space.memory.values where !mapDMA(in: pd, cap) {
            for mapped in pd.space.memory.values { unmapDMA(in: pd, virtualPage: mapped.key, pages: mapped.count) }
            releaseDMATable(pd)
            return false
        }
        return true
    }

    /// Mirrors a memory capability into its holder's DMA table, if it has one. False when the quota or pool cannot
    /// pay for the tables (what was mapped of it is unmapped again).
    func mapDMA(in pd: ProtectionDomain, _ cap: Capability) -> Bool {
        guard let root = pd.dmaRoot else { return true }
        pd.changes.addressSpace = true
        let walker = PageTableWalker<P, VTdEntry>(platform: platform)
        let mapped = walker.map(root: root, virtualPage: cap.key, pages: cap.count, physical: cap.resource,
                                permissions: cap.permissions, largestLevel: largestLeafLevel,
                                table: { chargedTableFrame(pd, recordedIn: &pd.dmaTableFrames) },
                                reserve: { chargedReservation(pd, PageTableWalker<P, VTdEntry>.reservation(level: $0),
                                                              countedIn: &pd.dmaReservedFrames) })
        if !mapped { unmapDMA(in: pd, virtualPage: cap.key, pages: cap.count) }
        return mapped
    }

    /// Removes pages from `pd`'s DMA table, if it has one, and flushes the devices' translations of it before
    /// returning, so no bound device reaches them any more.
    func unmapDMA(in pd: ProtectionDomain, virtualPage: UInt64, pages: UInt64) {
        guard let root = pd.dmaRoot else { return }
        pd.changes.addressSpace = true
        let walker = PageTableWalker<P, VTdEntry>(platform: platform)
        let changed = walker.unmap(root: root, virtualPage: virtualPage, pages: pages, demotionFrame: {
            pd.dmaReservedFrames -= 1
            let frame = frames.allocateReserved()
            pd.dmaTableFrames.append(frame)
            return frame
        }, release: { level in
            let count = PageTableWalker<P, VTdEntry>.reservation(level: level)
            pd.dmaReservedFrames -= count
            pd.refund(count)
            frames.unreserve(count)
        })
        if changed > 0 { platform.flushDeviceTranslations(root: root) }
    }

    /// A dying PD (or a failed creation): its devices are unbound and its DMA table frames return to the pool and
    /// its quota. Everything must be unmapped already.
    func releaseDMATable(_ pd: ProtectionDomain) {
        for (requester, owner) in deviceBindings where owner === pd { unbindDevice(requester) }
        guard let root = pd.dmaRoot else { return }
        precondition(pd.dmaReservedFrames == 0, "kernel bug: a PD's DMA table still has large leaves")
        platform.flushDeviceTranslations(root: root)
        for frame in pd.dmaTableFrames {
            frames.free(frame)
            pd.refund(1)
        }
        pd.dmaTableFrames = []
        pd.dmaRoot = nil
    }
}
