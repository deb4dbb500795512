import KernelABI

/// Address-space work on PDs: every PML4 starts with the kernel's slot 0; user mappings mirror memory capabilities.
/// Page tables are charged to the PD that owns the address space.
extension Kernel {
    var walker: PageTableWalker<P> { PageTableWalker(platform: platform) }

    /// A fresh PML4: only slot 0, the kernel's supervisor-only identity map.
    func initializeAddressSpace(_ pml4: UInt64) {
        platform.zeroPage(pml4)
        platform.writePhysical(pml4, kernelPDPT | PageTableEntry.kernelTable)
    }

    /// Maps a memory capability in its holder's page tables. False when the holder's quota or the pool cannot pay
    /// for a needed table.
    func map(_ cap: Capability) -> Bool {
        mapPage(in: cap.holder, virtualPage: cap.key, physical: cap.resource,
                flags: PageTableEntry.leafFlags(cap.permissions))
    }

    func mapPage(in pd: ProtectionDomain, virtualPage: UInt64, physical: UInt64, flags: UInt64) -> Bool {
        pd.changes.addressSpace = true
        return walker.map(root: pd.pageTableRoot, virtualAddress: virtualPage << AddressLayout.pageShift, physical: physical,
                   flags: flags) { () -> UInt64? in
            guard pd.charge(1) else { return nil }
            guard let frame = frames.allocate() else {
                pd.refund(1)
                return nil
            }
            pd.tableFrames.append(frame)
            return frame
        }
    }

    /// Removes a page from a PD's address space and drops stale translations of it.
    func unmapPage(in pd: ProtectionDomain, virtualPage: UInt64) {
        pd.changes.addressSpace = true
        let address = virtualPage << AddressLayout.pageShift
        if walker.unmap(root: pd.pageTableRoot, virtualAddress: address) {
            platform.flushTranslations(root: pd.pageTableRoot, page: address)
        }
    }

    /// Gives all of a dead PD's table frames back to the pool and its quota.
    func releaseAddressSpace(_ pd: ProtectionDomain) {
        // The freed PML4 may be reused (and rewritten) at once, so the CPU must not keep it active meanwhile.
        platform.activateAddressSpace(root: kernelRoot)
        platform.flushTranslations(root: pd.pageTableRoot, page: nil)
        for frame in pd.tableFrames {
            frames.free(frame)
            pd.refund(1)
        }
        pd.tableFrames = []
    }
}
