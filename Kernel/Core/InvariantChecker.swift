import KernelABI

/// Checks the invariants written next to each kernel object, across the whole kernel. Tests call it after every
/// step of randomized hypercall sequences. Returns one line per violation (empty: all hold).
///
/// With `incremental`, each PD's `changes` say what to look at again: its object space, the memory and I/O entries
/// noted, and its page tables. Quotas, ECs and frame counts are always checked. This finds what a full check finds
/// because a capability's check depends only on itself, its slot, its parent and its children, and every change to
/// those is noted on the holders of all of them (`ProtectionDomain.noteChange`); and the page-table comparison
/// depends only on the page tables, the UTCB pages and which memory capabilities exist (their pages and rights are
/// fixed), all of which set `changes.addressSpace` when they change.
extension Kernel {
    func invariantViolations(incremental: Bool = false) -> [String] {
        var problems: [String] = []
        func fail(_ s: String) { problems.append(s) }
        var heldFrames: UInt64 = UInt64(kernelMapFrames.count)

        for pd in protectionDomains {
            guard pd.isAlive else { fail("\(pd.name) is dead but listed"); continue }
            if pd.quotaUsed > pd.quotaLimit { fail("\(pd.name) quota used \(pd.quotaUsed) > limit \(pd.quotaLimit)") }
            heldFrames += UInt64(pd.tableFrames.count)
            let changes = incremental ? pd.changes : ChangeRecord()
            pd.changes.clear()
            if changes.objects {
                for (_, cap) in pd.space.objects { checkCapability(cap, in: pd, fail) }
            }
            checkCapabilities(pd.space.memory, keys: changes.memoryKeys, in: pd, fail)
            checkPorts(of: pd, keys: changes.ports, fail)
            if changes.addressSpace { checkAddressSpace(of: pd, fail) }
        }
        // The donation chain's links own nothing (Link.swift): each must name a live EC or SC. Checked by address
        // first, so a dangling link is reported instead of followed.
        let liveECs = Set(executionContexts.map { Link($0) })
        let liveSCs = Set(executionContexts.compactMap { $0.boundSC }.filter { $0.isAlive }.map { Link($0) })
        for ec in executionContexts {
            heldFrames += 1
            if !ec.isAlive || !ec.pd.isAlive { fail("\(ec.name) listed but dead or homeless") }
            let dangling = [("caller", ec.callerLink.map { !liveECs.contains($0) } ?? false),
                            ("callee", ec.calleeLink.map { !liveECs.contains($0) } ?? false),
                            ("current SC", ec.currentSCLink.map { !liveSCs.contains($0) } ?? false)]
            for (link, broken) in dangling where broken { fail("\(ec.name) \(link) link names a destroyed object") }
            guard !dangling.contains(where: { $0.1 }) else { continue }
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
        if !scheduler.bitmapAgreesWithQueues { fail("scheduler priority bitmap disagrees with its queues") }
        if heldFrames != frames.allocatedCount {
            fail("pool: \(frames.allocatedCount) frames allocated but \(heldFrames) held by page tables and UTCBs")
        }
        return problems
    }

    /// The capabilities of one space: those at `keys`, or all of them when `keys` is nil.
    private func checkCapabilities(_ table: [UInt64: Capability], keys: [UInt64]?, in pd: ProtectionDomain,
                                   _ fail: (String) -> Void) {
        guard let keys else {
            for (_, cap) in table { checkCapability(cap, in: pd, fail) }
            return
        }
        for key in keys {
            if let cap = table[key] { checkCapability(cap, in: pd, fail) }
        }
    }

    /// The I/O capabilities and the bitmap: at `keys`, or all ports when `keys` is nil.
    private func checkPorts(of pd: ProtectionDomain, keys: [UInt64]?, _ fail: (String) -> Void) {
        checkCapabilities(pd.space.io, keys: keys, in: pd, fail)
        guard let keys else {
            var expected = IOPermissionBitmap()
            for (port, _) in pd.space.io { expected.set(port, allowed: true) }
            if expected != pd.ioBitmap { fail("\(pd.name) I/O bitmap disagrees with its I/O capabilities") }
            return
        }
        for port in keys where pd.ioBitmap.allows(port) != (pd.space.io[port] != nil) {
            fail("\(pd.name) I/O bitmap disagrees with its I/O capabilities at port \(hex(port))")
        }
    }

    /// The page tables: the kernel map in slot 0, nothing in the kernel half, exactly the PD's table frames, and
    /// mappings for exactly its memory capabilities (with their rights) and its UTCBs.
    private func checkAddressSpace(of pd: ProtectionDomain, _ fail: (String) -> Void) {
        if platform.readPhysical(pd.pageTableRoot) != kernelPDPT | PageTableEntry.kernelTable {
            fail("\(pd.name) PML4 slot 0 is not the kernel map")
        }
        for slot in UInt64(256)..<512 where platform.readPhysical(pd.pageTableRoot + slot * 8) != 0 {
            fail("\(pd.name) PML4 slot \(slot) (kernel half) is used")
        }
        var mappings = walker.userMappings(root: pd.pageTableRoot)
        var expectedTables = Set(mappings.tables)
        expectedTables.insert(pd.pageTableRoot)
        if expectedTables != Set(pd.tableFrames) { fail("\(pd.name) table frames differ from its page tables") }
        for (page, cap) in pd.space.memory {
            let want = cap.resource | PageTableEntry.leafFlags(cap.permissions)
            let have = mappings.leaves.removeValue(forKey: page)
            if have != want { fail("\(pd.name) page \(hex(page)) maps \(have.map(hex) ?? "nothing"), capability says \(hex(want))") }
        }
        for (page, ec) in pd.utcbPages {
            let want = ec.utcbFrame | PageTableEntry.leafFlags(Permissions.read | Permissions.write)
            let have = mappings.leaves.removeValue(forKey: page)
            if have != want || !ec.isAlive || ec.pd !== pd { fail("\(pd.name) UTCB page \(hex(page)) is wrong") }
        }
        for (page, entry) in mappings.leaves {
            fail("\(pd.name) maps page \(hex(page)) -> \(hex(entry)) without holding it")
        }
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
