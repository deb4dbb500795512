import KernelABI

/// Address-space work on PDs: every PML4 starts with the kernel's slot 0; user mappings mirror memory capabilities.
/// A VM PD's table is its nested one, in the machine's nested format (`Platform.nestedPaging`: x86-64 for AMD NPT
/// and the simulator, `EPTEntry` for Intel EPT); every other table is x86-64.
/// Page tables, and the frames reserved to split their large leaves later, are charged to the PD that owns the
/// address space.
extension Kernel {
    var walker: PageTableWalker<P, PageTableEntry> { PageTableWalker(platform: platform) }

    /// The largest leaf a PD's tables use: 1 GiB where the machine has such pages, else 2 MiB.
    var largestLeafLevel: Int { platform.supportsGigabytePages ? 2 : 1 }

    /// Above this many pages a removal flushes the whole address space instead of page by page.
    static var flushAllThreshold: UInt64 { 32 }

    /// A fresh PML4: only slot 0, the kernel's supervisor-only identity map.
    func initializeAddressSpace(_ pml4: UInt64) {
        platform.zeroPage(pml4)
        platform.writePhysical(pml4, kernelPDPT | PageTableEntry.kernelTable)
    }

    /// Maps a memory capability in its holder's page tables. False (nothing mapped) when the holder's quota or the
    /// pool cannot pay for a needed table or reservation.
    /// A PD with bound devices gets it in its DMA table too (DeviceAssignment.swift), all or nothing.
    func map(_ cap: Capability) -> Bool {
        guard mapPages(in: cap.holder, virtualPage: cap.key, pages: cap.count, physical: cap.resource,
                       permissions: cap.permissions) else { return false }
        guard mapDMA(in: cap.holder, cap) else {
            unmapPages(in: cap.holder, virtualPage: cap.key, pages: cap.count)
            return false
        }
        return true
    }

    func mapPages(in pd: ProtectionDomain, virtualPage: UInt64, pages: UInt64, physical: UInt64,
                  permissions: UInt64) -> Bool {
        if usesEPT(pd) {
            return mapPages(in: pd, virtualPage: virtualPage, pages: pages, physical: physical,
                            permissions: permissions, format: EPTEntry.self)
        }
        return mapPages(in: pd, virtualPage: virtualPage, pages: pages, physical: physical, permissions: permissions,
                        format: PageTableEntry.self)
    }

    /// Whether `pd`'s table is an Intel EPT (a VM PD on a VMX machine); every other table is x86-64.
    func usesEPT(_ pd: ProtectionDomain) -> Bool { pd.isVM && platform.nestedPaging == .ept }

    private func mapPages<F: PageTableFormat>(in pd: ProtectionDomain, virtualPage: UInt64, pages: UInt64,
                                              physical: UInt64, permissions: UInt64, format: F.Type) -> Bool {
        pd.changes.addressSpace = true
        let walker = PageTableWalker<P, F>(platform: platform)
        let mapped = walker.map(root: pd.pageTableRoot, virtualPage: virtualPage, pages: pages, physical: physical,
                                permissions: permissions, largestLevel: largestLeafLevel,
                                table: { chargedTableFrame(pd, recordedIn: &pd.tableFrames) },
                                reserve: { chargedReservation(pd, PageTableWalker<P, F>.reservation(level: $0),
                                                              countedIn: &pd.reservedFrames) })
        if !mapped { unmapPages(in: pd, virtualPage: virtualPage, pages: pages) }
        return mapped
    }

    /// A table frame for one of `pd`'s page tables (its own, nested or DMA), charged to its quota and recorded in
    /// `list` (freed with the PD); nil, with nothing charged, when the quota or the pool is exhausted.
    func chargedTableFrame(_ pd: ProtectionDomain, recordedIn list: inout [UInt64]) -> UInt64? {
        guard pd.charge(1) else { return nil }
        guard let frame = frames.allocate() else {
            pd.refund(1)
            return nil
        }
        list.append(frame)
        return frame
    }

    /// The `count` frames a large leaf's later splits could need, charged to `pd` and reserved in the pool (counted
    /// in `total`); false, with nothing charged, when either is exhausted.
    func chargedReservation(_ pd: ProtectionDomain, _ count: UInt64, countedIn total: inout UInt64) -> Bool {
        guard pd.charge(count) else { return false }
        guard frames.reserve(count) else {
            pd.refund(count)
            return false
        }
        total += count
        return true
    }

    /// Removes pages from a PD's address space (splitting large leaves that reach outside them) and drops stale
    /// translations before returning.
    func unmapPages(in pd: ProtectionDomain, virtualPage: UInt64, pages: UInt64) {
        if usesEPT(pd) {
            unmapPages(in: pd, virtualPage: virtualPage, pages: pages, format: EPTEntry.self)
        } else {
            unmapPages(in: pd, virtualPage: virtualPage, pages: pages, format: PageTableEntry.self)
        }
    }

    private func unmapPages<F: PageTableFormat>(in pd: ProtectionDomain, virtualPage: UInt64, pages: UInt64,
                                                format: F.Type) {
        pd.changes.addressSpace = true
        let walker = PageTableWalker<P, F>(platform: platform)
        let changed = walker.unmap(root: pd.pageTableRoot, virtualPage: virtualPage, pages: pages, demotionFrame: {
            pd.reservedFrames -= 1
            let frame = frames.allocateReserved()
            pd.tableFrames.append(frame)
            return frame
        }, release: { level in
            let count = PageTableWalker<P, F>.reservation(level: level)
            pd.reservedFrames -= count
            pd.refund(count)
            frames.unreserve(count)
        })
        guard changed > 0 else { return }
        if pd.isVM {
            flushGuestMappings(of: pd)
            return
        }
        if pages > Self.flushAllThreshold {
            platform.flushTranslations(root: pd.pageTableRoot, page: nil)
        } else {
            for page in virtualPage..<virtualPage + pages {
                platform.flushTranslations(root: pd.pageTableRoot, page: page << AddressLayout.pageShift)
            }
        }
    }

    /// Gives all of a dead PD's table frames back to the pool and its quota.
    func releaseAddressSpace(_ pd: ProtectionDomain) {
        // The freed PML4 may be reused (and rewritten) at once, so the CPU must not keep it active meanwhile.
        platform.activateAddressSpace(root: kernelRoot)
        platform.flushTranslations(root: pd.pageTableRoot, page: nil)
        precondition(pd.reservedFrames == 0, "kernel bug: a dead PD still has large leaves")
        for frame in pd.tableFrames {
            frames.free(frame)
            pd.refund(1)
        }
        pd.tableFrames = []
    }
}
