import KernelABI

/// Checks the invariants written next to each kernel object, across the whole kernel. Tests call it after every
/// step of randomized hypercall sequences. Returns one line per violation (empty: all hold). With `incremental`,
/// PDs whose `version` did not change since their last check are skipped except for their quota (every change to a
/// capability bumps its holder and its parent's holder, so nothing a skipped PD's checks depend on changed).
extension Kernel {
    func invariantViolations(incremental: Bool = false) -> [String] {
        var problems: [String] = []
        func fail(_ s: String) { problems.append(s) }
        var heldFrames: UInt64 = UInt64(kernelMapFrames.count)

        for pd in protectionDomains {
            guard pd.isAlive else { fail("\(pd.name) is dead but listed"); continue }
            if pd.quotaUsed > pd.quotaLimit { fail("\(pd.name) quota used \(pd.quotaUsed) > limit \(pd.quotaLimit)") }
            heldFrames += UInt64(pd.tableFrames.count)
            if incremental, pd.version == pd.checkedVersion { continue }
            pd.checkedVersion = pd.version
            var expectedTables = Set(walker.userTableFrames(root: pd.pageTableRoot))
            expectedTables.insert(pd.pageTableRoot)
            if expectedTables != Set(pd.tableFrames) { fail("\(pd.name) table frames differ from its page tables") }
            if platform.readPhysical(pd.pageTableRoot) != kernelPDPT | PageTableEntry.kernelTable {
                fail("\(pd.name) PML4 slot 0 is not the kernel map")
            }
            for slot in UInt64(256)..<512 where platform.readPhysical(pd.pageTableRoot + slot * 8) != 0 {
                fail("\(pd.name) PML4 slot \(slot) (kernel half) is used")
            }
            for cap in pd.space.all { checkCapability(cap, in: pd, fail) }
            // The page tables map exactly the memory capabilities and UTCBs.
            var mapped: [UInt64: UInt64] = [:]
            for (address, entry) in walker.userLeaves(root: pd.pageTableRoot) {
                mapped[address >> AddressLayout.pageShift] = entry
            }
            for (page, cap) in pd.space.memory {
                let want = cap.resource | PageTableEntry.leafFlags(cap.permissions)
                if mapped[page] != want { fail("\(pd.name) page \(hex(page)) maps \(mapped[page].map(hex) ?? "nothing"), capability says \(hex(want))") }
                mapped[page] = nil
            }
            for (page, ec) in pd.utcbPages {
                let want = ec.utcbFrame | PageTableEntry.leafFlags(Permissions.read | Permissions.write)
                if mapped[page] != want || !ec.isAlive || ec.pd !== pd { fail("\(pd.name) UTCB page \(hex(page)) is wrong") }
                mapped[page] = nil
            }
            for (page, entry) in mapped {
                fail("\(pd.name) maps page \(hex(page)) -> \(hex(entry)) without holding it")
            }
            var expected = IOPermissionBitmap()
            for (port, _) in pd.space.io { expected.set(port, allowed: true) }
            if expected != pd.ioBitmap { fail("\(pd.name) I/O bitmap disagrees with its I/O capabilities") }
        }
        for ec in executionContexts {
            heldFrames += 1
            if !ec.isAlive || !ec.pd.isAlive { fail("\(ec.name) listed but dead or homeless") }
            if (ec.state == .calling) != (ec.callee != nil) { fail("\(ec.name) calling state disagrees with callee") }
            if let callee = ec.callee, callee.caller !== ec { fail("\(ec.name) callee does not point back") }
            if (ec.state == .blocked) != (ec.blockedOn?.waiters.contains { $0 === ec } ?? false) {
                fail("\(ec.name) blocked state disagrees with its semaphore")
            }
            if (ec.state == .queued) != (ec.queuedAt?.pendingCallers.contains { $0 === ec } ?? false) {
                fail("\(ec.name) queued state disagrees with its handler")
            }
        }
        for sc in scheduler.queued where !sc.isAlive || sc.priority > Scheduler.maxPriority {
            fail("scheduler holds a dead or out-of-range sc#\(sc.id)")
        }
        if heldFrames != frames.allocatedCount {
            fail("pool: \(frames.allocatedCount) frames allocated but \(heldFrames) held by page tables and UTCBs")
        }
        return problems
    }

    private func checkCapability(_ cap: Capability, in pd: ProtectionDomain, _ fail: (String) -> Void) {
        // Only formatted when something is wrong (this runs for every capability on every check).
        var what: String { "\(pd.name) \(cap.kind) capability \(hex(cap.key))" }
        if !cap.isLive || cap.holder !== pd { fail("\(what) is dead or held elsewhere") }
        if cap.permissions == 0 { fail("\(what) has no permissions") }
        if let object = cap.object, !object.isAlive { fail("\(what) names a destroyed object") }
        if cap.kind == .io, pd.space.io[cap.key] === cap, cap.resource != cap.key { fail("\(what) names another port") }
        for child in cap.children where child.parent !== cap || !child.isLive {
            fail("\(what) has a child that does not point back")
        }
        guard let parent = cap.parent else {
            if !cap.isOriginal { fail("\(what) lost its derivation path") }
            return
        }
        if cap.isOriginal { fail("\(what) is an original with a parent") }
        if !parent.isLive || parent.holder.space[parent.kind, parent.key] !== parent {
            fail("\(what) derives from a capability that is gone")
        }
        if !parent.children.contains(where: { $0 === cap }) { fail("\(what) is not among its parent's children") }
        if parent.kind != cap.kind || parent.resource != cap.resource || cap.permissions & ~parent.permissions != 0 {
            fail("\(what) exceeds or differs from its parent")
        }
        if let a = cap.object, let b = parent.object, !a.isSame(as: b) { fail("\(what) names another object than its parent") }
    }
}
