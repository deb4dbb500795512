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
            heldFrames += UInt64(pd.tableFrames.count + pd.dmaTableFrames.count)
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
            heldFrames += UInt64(ec.vcpu?.frames.count ?? 1)
            if !ec.isAlive || !ec.pd.isAlive { fail("\(ec.name) listed but dead or homeless") }
            if let vcpu = ec.vcpu {
                if !ec.pd.isVM || !ec.isGlobal { fail("\(ec.name) is a vCPU outside a VM PD or not global") }
                if !vcpu.vmm.isAlive || ec.chargedTo !== vcpu.vmm { fail("\(ec.name) vCPU's VMM is gone or did not pay") }
                if vcpu.nestedRoot != ec.pd.pageTableRoot { fail("\(ec.name) vCPU runs another nested table") }
            } else if ec.pd.isVM {
                fail("\(ec.name) is an ordinary EC in a VM PD")
            }
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
        for sm in interruptSemaphores {
            let irq = sm.irq ?? UInt64.max
            if sm.interruptAssigned && platform.interruptTrigger(irq) == nil {
                fail("sm#\(sm.id) is assigned to irq \(irq), a line the machine does not have")
            }
            if sm.interruptHeld && (!sm.isAlive || !sm.interruptAssigned || platform.interruptTrigger(irq) != .level) {
                fail("sm#\(sm.id) holds irq \(irq) closed but is not a live, assigned level line")
            }
        }
        for (requester, pd) in deviceBindings where !pd.isAlive || pd.dmaRoot == nil || !platform.dmaRemapping {
            fail("device \(hex(requester)) is bound to \(pd.name), which is dead or has no DMA table")
        }
        for (index, sm) in messageSemaphores.enumerated() {
            if sm.irq != RootSelectors.lineCount + UInt64(index) {
                fail("sm#\(sm.id) is message semaphore \(index) but stands for interrupt \(sm.irq.map { String($0) } ?? "none")")
            }
            if sm.interruptHeld { fail("sm#\(sm.id) holds message interrupt \(index) closed: messages are edges") }
            if sm.interruptAssigned && platform.messageInterrupt(UInt64(index)) == nil {
                fail("sm#\(sm.id) is assigned message interrupt \(index), a vector the machine does not have")
            }
            // Interrupt remapping: the entry is present exactly while assigned, for the device it was assigned for.
            let expected = platform.interruptRemapping && sm.interruptAssigned ? sm.interruptRequester : nil
            if sm.interruptRequester != nil && (!platform.interruptRemapping || !sm.interruptAssigned) {
                fail("sm#\(sm.id) keeps a requester for message interrupt \(index) while not remapped and assigned")
            }
            if platform.interruptRemapping && sm.interruptAssigned && sm.interruptRequester == nil {
                fail("sm#\(sm.id) is assigned message interrupt \(index) for no device under interrupt remapping")
            }
            let entry = platform.remappedRequester(ofMessage: UInt64(index))
            if entry != expected {
                fail("message interrupt \(index)'s remapping entry admits \(entry.map { hex($0) } ?? "nothing") but "
                     + "\(expected.map { "device " + hex($0) + " has it assigned" } ?? "it is not assigned")")
            }
        }
        for sc in scheduler.queued where !sc.isAlive || sc.priority > Scheduler.maxPriority {
            fail("scheduler holds a dead or out-of-range sc#\(sc.id)")
        }
        if !scheduler.bitmapAgreesWithQueues { fail("scheduler priority bitmap disagrees with its queues") }
        let reserved = protectionDomains.reduce(UInt64(0)) { $0 + $1.reservedFrames + $1.dmaReservedFrames }
        for (tag, vm) in guestTags.heldTags where !vm.isAlive || !vm.isVM || vm.guestTag != tag {
            fail("guest tag \(tag) is held by a dead or non-VM PD")
        }
        if reserved != frames.reservedCount {
            fail("pool: \(frames.reservedCount) frames reserved but PDs reserve \(reserved)")
        }
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

    /// The I/O capabilities and the bitmap: at `keys`, or all ports when `keys` is nil. Incrementally, each noted
    /// capability's ports must be allowed, a noted key nobody holds must not be, and the bitmap must allow exactly
    /// as many ports as the capabilities cover (so no stale bit can hide elsewhere).
    private func checkPorts(of pd: ProtectionDomain, keys: [UInt64]?, _ fail: (String) -> Void) {
        checkCapabilities(pd.space.io, keys: keys, in: pd, fail)
        guard let keys else {
            var expected = IOPermissionBitmap()
            for (port, cap) in pd.space.io { expected.set(port, count: cap.count, allowed: true) }
            if expected != pd.ioBitmap { fail("\(pd.name) I/O bitmap disagrees with its I/O capabilities") }
            return
        }
        var held = 0
        for (_, cap) in pd.space.io { held += Int(cap.count) }
        if held != pd.ioBitmap.allowedCount {
            fail("\(pd.name) I/O bitmap allows \(pd.ioBitmap.allowedCount) ports, its capabilities cover \(held)")
        }
        for port in keys {
            if let cap = pd.space.io[port] {
                if !pd.ioBitmap.allowsAll(cap.key, count: cap.count) {
                    fail("\(pd.name) I/O bitmap does not allow all ports of its capability \(hex(port))")
                }
            } else if pd.space.covering(.io, port) == nil, pd.ioBitmap.allows(port) {
                fail("\(pd.name) I/O bitmap allows port \(hex(port)) without a capability")
            }
        }
    }

    /// The page tables: the kernel map in slot 0, nothing in the kernel half, exactly the PD's table frames, and
    /// mappings for exactly its memory capabilities (with their rights) and its UTCBs.
    private func checkAddressSpace(of pd: ProtectionDomain, _ fail: (String) -> Void) {
        // A VM PD's nested table is all guest-physical; a PD's has the kernel in slot 0 and nothing in the upper half.
        if !pd.isVM {
            if platform.readPhysical(pd.pageTableRoot) != kernelPDPT | PageTableEntry.kernelTable {
                fail("\(pd.name) PML4 slot 0 is not the kernel map")
            }
            for slot in UInt64(256)..<512 where platform.readPhysical(pd.pageTableRoot + slot * 8) != 0 {
                fail("\(pd.name) PML4 slot \(slot) (kernel half) is used")
            }
        } else if !pd.utcbPages.isEmpty {
            fail("\(pd.name) is a VM PD with UTCB pages")
        }
        if usesEPT(pd) {
            checkMappings(of: pd, PageTableWalker<P, EPTEntry>(platform: platform), fail)
        } else {
            checkMappings(of: pd, walker, fail)
        }
        checkDMATable(of: pd, fail)
    }

    /// The leaves and table frames of `pd`'s table, read in its own format.
    private func checkMappings<F: PageTableFormat>(of pd: ProtectionDomain, _ walker: PageTableWalker<P, F>,
                                                   _ fail: (String) -> Void) {
        let mappings = pd.isVM ? walker.userMappings(root: pd.pageTableRoot, slots: 0..<512)
                               : walker.userMappings(root: pd.pageTableRoot)
        var expectedTables = Set(mappings.tables)
        expectedTables.insert(pd.pageTableRoot)
        if expectedTables != Set(pd.tableFrames) { fail("\(pd.name) table frames differ from its page tables") }
        var reserved: UInt64 = 0
        for leaf in mappings.leaves { reserved += PageTableWalker<P, F>.reservation(level: leaf.level) }
        if reserved != pd.reservedFrames {
            fail("\(pd.name) reserves \(pd.reservedFrames) frames, its large leaves need \(reserved)")
        }
        // What must be mapped, in virtual order: the memory capabilities and the UTCBs.
        var expected: [MappedRun] = []
        for (page, cap) in pd.space.memory {
            expected.append(MappedRun(page: page, count: cap.count, physical: cap.resource, permissions: cap.permissions))
        }
        for (page, ec) in pd.utcbPages {
            if !ec.isAlive || ec.pd !== pd { fail("\(pd.name) UTCB page \(hex(page)) belongs to a dead or foreign EC") }
            expected.append(MappedRun(page: page, count: 1, physical: ec.utcbFrame,
                                      permissions: Permissions.read | Permissions.write))
        }
        expected.sort { $0.page < $1.page }
        if let problem = compare(mappings.leaves, with: expected, format: F.self) { fail("\(pd.name) \(problem)") }
    }

    /// A PD's DMA table (DeviceAssignment.swift): its own frames and reservations, and exactly the PD's memory
    /// capabilities with their read/write rights (no UTCBs).
    private func checkDMATable(of pd: ProtectionDomain, _ fail: (String) -> Void) {
        guard let root = pd.dmaRoot else {
            if !pd.dmaTableFrames.isEmpty || pd.dmaReservedFrames != 0 { fail("\(pd.name) has DMA frames but no DMA table") }
            return
        }
        let walker = PageTableWalker<P, VTdEntry>(platform: platform)
        let mappings = walker.userMappings(root: root, slots: 0..<512)
        var expectedTables = Set(mappings.tables)
        expectedTables.insert(root)
        if expectedTables != Set(pd.dmaTableFrames) { fail("\(pd.name) DMA table frames differ from its DMA table") }
        var reserved: UInt64 = 0
        for leaf in mappings.leaves { reserved += PageTableWalker<P, VTdEntry>.reservation(level: leaf.level) }
        if reserved != pd.dmaReservedFrames {
            fail("\(pd.name) reserves \(pd.dmaReservedFrames) DMA frames, its large DMA leaves need \(reserved)")
        }
        var expected: [MappedRun] = []
        for (page, cap) in pd.space.memory {
            expected.append(MappedRun(page: page, count: cap.count, physical: cap.resource,
                                      permissions: cap.permissions & (Permissions.read | Permissions.write)))
        }
        expected.sort { $0.page < $1.page }
        if let problem = compare(mappings.leaves, with: expected, format: VTdEntry.self) { fail("\(pd.name) DMA table \(problem)") }
    }

    /// A run of virtual pages that must map consecutive physical memory with `permissions`.
    private struct MappedRun {
        let page: UInt64
        let count: UInt64
        let physical: UInt64
        let permissions: UInt64
        var end: UInt64 { page + count }
    }

    /// Whether the leaves (any size) map exactly the runs, page for page; the first difference otherwise. Both are
    /// in ascending order, so one merge pass compares them.
    private func compare<F: PageTableFormat>(_ leaves: [UserMappings.Leaf], with runs: [MappedRun],
                                             format: F.Type) -> String? {
        typealias Walker = PageTableWalker<P, F>
        var run = 0
        var next = runs.first?.page ?? UInt64.max  // first page of runs[run] not matched yet
        for leaf in leaves {
            let span = Walker.span(level: leaf.level)
            let physical = F.address(leaf.entry)
            let permissions = F.permissions(ofLeaf: leaf.entry)
            if leaf.entry != F.leaf(physical, permissions: permissions, level: leaf.level)
                || physical & (span << AddressLayout.pageShift - 1) != 0 {
                return "has a malformed leaf \(hex(leaf.entry)) at page \(hex(leaf.virtualPage))"
            }
            var page = leaf.virtualPage
            while page < leaf.virtualPage + span {
                if page > next { return "does not map page \(hex(next)), which it holds" }
                guard run < runs.count, page == next else {
                    return "maps page \(hex(page)) -> \(hex(leaf.entry)) without holding it"
                }
                let r = runs[run]
                let want = r.physical + (page - r.page) << AddressLayout.pageShift
                let have = physical + (page - leaf.virtualPage) << AddressLayout.pageShift
                if want != have || permissions != r.permissions | Permissions.read {
                    return "page \(hex(page)) maps \(hex(have)) with rights \(permissions), capability says \(hex(want)) with \(r.permissions)"
                }
                page = min(leaf.virtualPage + span, r.end)
                next = page
                if page == r.end {
                    run += 1
                    next = run < runs.count ? runs[run].page : UInt64.max
                }
            }
        }
        return run < runs.count ? "does not map page \(hex(next)), which it holds" : nil
    }

    private func checkCapability(_ cap: Capability, in pd: ProtectionDomain, _ fail: (String) -> Void) {
        // Only formatted when something is wrong (this runs for every capability on every check).
        var what: String { "\(pd.name) \(cap.kind) capability \(hex(cap.key))" }
        if !cap.isLive || cap.holder !== pd { fail("\(what) is dead or held elsewhere") }
        if cap.permissions == 0 { fail("\(what) has no permissions") }
        if let object = cap.object, !object.isAlive { fail("\(what) names a destroyed object") }
        if cap.kind == .io, cap.resource != cap.key { fail("\(what) names another port") }
        if cap.kind != .object {
            if cap.key & (cap.count - 1) != 0 || cap.resourceKey & (cap.count - 1) != 0 {
                fail("\(what) of order \(cap.order) is not aligned")
            }
            if let other = pd.space.enclosing(cap) { fail("\(what) overlaps capability \(hex(other.key))") }
            if let other = pd.space.inside(cap).first { fail("\(what) overlaps capability \(hex(other.key))") }
        }
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
        if parent.kind != cap.kind || cap.permissions & ~parent.permissions != 0
            || (cap.kind == .object && parent.resource != cap.resource)
            || (cap.kind != .object && (cap.resourceKey < parent.resourceKey
                                        || cap.resourceKey + cap.count > parent.resourceKey + parent.count)) {
            fail("\(what) exceeds or differs from its parent")
        }
        if let a = cap.object, let b = parent.object, !a.isSame(as: b) { fail("\(what) names another object than its parent") }
        if cap.kind == .memory, (cap.permissions ^ parent.permissions) & Permissions.device != 0 {
            fail("\(what) and its parent disagree on whether it is device memory")
        }
    }
}
