import KernelABI

/// create_pd, create_ec, create_sc, create_pt, create_sm. The caller's PD needs its own `pdCreate` right, pays one
/// page of quota per object (an EC's page is its UTCB), and receives the object's original capability at `dst`.
extension Kernel {
    static var maxBudget: UInt64 { 1 << 40 }

    /// create_pd(dst, quota_pages, permissions, flags): a new PD with `quota_pages` of the caller's quota (its PML4
    /// is the first page). `permissions` are the caller's rights on the new PD; its `pdCreate`/`pdConsole`/`pdVM` bits
    /// also become the new PD's own rights, as far as the caller has them itself. With `PDFlags.vm` (needs the
    /// caller's own `pdVM`) it is a VM PD: a guest-physical memory space on a nested page table, no own rights.
    func createPD(by caller: ExecutionContext, at dst: UInt64, quota: UInt64, permissions: UInt64,
                  flags: UInt64 = 0) throws(Failure) -> Completion {
        let pd = caller.pd
        try requireCreateRight(pd)
        try requireFreeSelector(pd, dst)
        guard permissions != 0, permissions & ~Permissions.all == 0, quota >= 1, flags & ~PDFlags.vm == 0 else {
            throw .badRange
        }
        let isVM = flags & PDFlags.vm != 0
        if isVM {
            guard pd.rights & Permissions.pdVM != 0 else { throw .insufficientRights }
            guard platform.guestTagCount > 0 else { throw .badState }
        }
        guard pd.charge(quota) else { throw .outOfMemory }
        guard let pml4 = frames.allocate() else {
            pd.refund(quota)
            throw .outOfMemory
        }
        let rights = isVM ? 0 : permissions & pd.rights & (Permissions.pdCreate | Permissions.pdConsole | Permissions.pdVM)
        let child = ProtectionDomain(id: makeID(), pageTableRoot: pml4, quotaLimit: quota, creator: pd, rights: rights,
                                     isVM: isVM)
        _ = child.charge(1)
        if isVM { platform.zeroPage(pml4) } else { initializeAddressSpace(pml4) }
        protectionDomains.append(child)
        insertOriginal(.pd(child), in: pd, at: dst, permissions: permissions)
        return .success
    }

    /// create_ec(dst, pd, utcb, sp, ip, flags): a thread (global) or portal handler (local) in `pd`, whose UTCB
    /// the kernel maps at `utcb` there; or, with `ECFlags.vcpu`, a vCPU of the VM PD `pd` (VCPUCreation.swift).
    func createEC(by caller: ExecutionContext, at dst: UInt64, pd selector: UInt64, utcb: UInt64, stackPointer: UInt64,
                  entry: UInt64, flags: UInt64) throws(Failure) -> Completion {
        let pd = caller.pd
        try requireCreateRight(pd)
        try requireFreeSelector(pd, dst)
        let home = try resolvePD(pd, selector, needs: Permissions.pdCreate)
        guard flags & 0xfc == 0, flags >> 8 < CapabilitySpace.selectorLimit else { throw .badRange }
        let ec: ExecutionContext
        if flags & ECFlags.vcpu != 0 {
            guard home.isVM, flags & ECFlags.global != 0 else { throw .badState }
            ec = try makeVCPU(in: home, createdBy: pd, eventBase: flags >> 8)
        } else {
            guard !home.isVM else { throw .badState }
            ec = try makeEC(in: home, chargedTo: pd, global: flags & ECFlags.global != 0, eventBase: flags >> 8,
                            utcb: utcb, stackPointer: stackPointer, entry: entry)
        }
        insertOriginal(.ec(ec), in: pd, at: dst, permissions: Permissions.all)
        return .success
    }

    /// Makes an EC with a fresh UTCB frame mapped at `utcb` in `home` (user, writable, not executable).
    func makeEC(in home: ProtectionDomain, chargedTo payer: ProtectionDomain, global: Bool, eventBase: UInt64,
                utcb: UInt64, stackPointer: UInt64, entry: UInt64) throws(Failure) -> ExecutionContext {
        let page = utcb >> AddressLayout.pageShift
        guard utcb & (AddressLayout.pageSize - 1) == 0, AddressLayout.isUserRange(utcb, length: AddressLayout.pageSize),
              home.space.covering(.memory, page) == nil, home.utcbPages[page] == nil else { throw .badRange }
        guard payer.charge(1) else { throw .outOfMemory }
        guard let frame = frames.allocate() else {
            payer.refund(1)
            throw .outOfMemory
        }
        platform.zeroPage(frame)
        guard mapPages(in: home, virtualPage: page, pages: 1, physical: frame,
                       permissions: Permissions.read | Permissions.write) else {
            frames.free(frame)
            payer.refund(1)
            throw .outOfMemory
        }
        let ec = ExecutionContext(id: makeID(), pd: home, isGlobal: global, eventBase: eventBase, utcbAddress: utcb,
                                  utcbFrame: frame, stackPointer: stackPointer, entry: entry, chargedTo: payer)
        ec.startupPending = global
        home.utcbPages[page] = ec
        executionContexts.append(ec)
        return ec
    }

    /// create_sc(dst, ec, priority, budget): an SC for a global EC that has none. The priority may not exceed the
    /// priority the caller itself runs at, so a PD cannot starve those above it.
    func createSC(by caller: ExecutionContext, at dst: UInt64, ec selector: UInt64, priority: UInt64,
                  budget: UInt64) throws(Failure) -> Completion {
        let pd = caller.pd
        try requireCreateRight(pd)
        try requireFreeSelector(pd, dst)
        let ec = try resolveEC(pd, selector, needs: Permissions.ecBindSC)
        guard ec.isGlobal, ec.boundSC == nil else { throw .badState }
        guard priority <= (caller.currentSC?.priority ?? 0), budget >= 1, budget <= Self.maxBudget else {
            throw .badRange
        }
        guard pd.charge(1) else { throw .outOfMemory }
        let sc = SchedulingContext(id: makeID(), ec: ec, priority: priority, budget: budget, chargedTo: pd)
        bind(sc, to: ec)
        insertOriginal(.sc(sc), in: pd, at: dst, permissions: Permissions.all)
        return .success
    }

    /// create_pt(dst, ec, ip, id, mtd): a portal into the local EC `ec`, entered at `ip`; `mtd` is what a vCPU exit
    /// through it transfers.
    func createPT(by caller: ExecutionContext, at dst: UInt64, ec selector: UInt64, entry: UInt64,
                  portalID: UInt64, mtd: UInt64 = 0) throws(Failure) -> Completion {
        let pd = caller.pd
        try requireCreateRight(pd)
        try requireFreeSelector(pd, dst)
        let ec = try resolveEC(pd, selector, needs: Permissions.ecBindPortal)
        guard !ec.isGlobal else { throw .badState }
        guard mtd & ~TransferDescriptor.all == 0 else { throw .badRange }
        guard pd.charge(1) else { throw .outOfMemory }
        let pt = Portal(id: makeID(), ec: ec, entry: entry, portalID: portalID, mtd: mtd, chargedTo: pd)
        insertOriginal(.pt(pt), in: pd, at: dst, permissions: Permissions.all)
        return .success
    }

    /// create_sm(dst, count).
    func createSM(by caller: ExecutionContext, at dst: UInt64, count: UInt64) throws(Failure) -> Completion {
        let pd = caller.pd
        try requireCreateRight(pd)
        try requireFreeSelector(pd, dst)
        guard count <= Semaphore.maxCount else { throw .badRange }
        guard pd.charge(1) else { throw .outOfMemory }
        let sm = Semaphore(id: makeID(), count: count, irq: nil, chargedTo: pd)
        insertOriginal(.sm(sm), in: pd, at: dst, permissions: Permissions.all)
        return .success
    }

    private func requireCreateRight(_ pd: ProtectionDomain) throws(Failure) {
        guard pd.rights & Permissions.pdCreate != 0 else { throw .insufficientRights }
    }

    /// The creator's capability: the root of the object's derivation tree. Removing it destroys the object.
    func insertOriginal(_ object: KernelObject, in pd: ProtectionDomain, at selector: UInt64, permissions: UInt64) {
        pd.noteChange(.object, key: selector)
        let cap = Capability(kind: .object, holder: pd, key: selector, resource: 0, object: object,
                             permissions: permissions, parent: nil)
        pd.space.insert(cap)
        if case .ec(let ec) = object { ec.original = cap }
    }
}
