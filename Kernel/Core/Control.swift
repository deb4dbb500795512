import KernelABI

/// The control hypercalls ctrl_ec, ctrl_sc and ctrl_pt, console output and lookup (ctrl_sm: SemaphoreControl.swift;
/// assign_int: InterruptAssignment.swift).
extension Kernel {
    /// ctrl_ec(ec, op): op 0 = recall; the EC takes its recall event the next time it would run.
    func controlEC(by caller: ExecutionContext, ec selector: UInt64, operation: UInt64) throws(Failure) -> Completion {
        let ec = try resolveEC(caller.pd, selector, needs: Permissions.ecControl)
        guard operation == 0 else { throw .badRange }
        guard ec.state != .stopped else { throw .badState }
        ec.recallPending = true
        return .success
    }

    /// ctrl_sc(sc, op): op 0 = read consumed ticks into rdi.
    func controlSC(by caller: ExecutionContext, sc selector: UInt64, operation: UInt64) throws(Failure) -> Completion {
        let sc = try resolveSC(caller.pd, selector, needs: Permissions.scControl)
        guard operation == 0 else { throw .badRange }
        return .value(sc.consumed)
    }

    /// ctrl_pt(pt, id): the id handlers see in UTCB word 3 from the next call on.
    func controlPT(by caller: ExecutionContext, pt selector: UInt64, portalID: UInt64) throws(Failure) -> Completion {
        let pt = try resolvePT(caller.pd, selector, needs: Permissions.ptControl)
        pt.portalID = portalID
        return .success
    }

    /// console_write(len): `len` bytes from the UTCB data area, if the caller's PD has the console right.
    func consoleWrite(by caller: ExecutionContext, length: UInt64) throws(Failure) -> Completion {
        guard caller.pd.rights & Permissions.pdConsole != 0 else { throw .insufficientRights }
        guard length <= UInt64(UTCBLayout.maxDataWords * 8) else { throw .badRange }
        let start = caller.utcbFrame + UInt64(UTCBLayout.firstDataWord * 8)
        for i in 0..<length { platform.consoleWrite(readPhysicalByte(start + i)) }
        return .success
    }

    /// lookup(crd): what the caller holds at the range's first key: rdi = the CRD word of the capability that
    /// covers it (its base, order and permissions; 0 when empty), rsi = the physical page number of that range's
    /// first page (memory), its first port (I/O) or the object type code (objects).
    func lookup(by caller: ExecutionContext, range word: UInt64) throws(Failure) -> Completion {
        guard let crd = CapabilityRange(word: word), crd.kind != .null,
              CapabilitySpace.isValidRange(crd.kind, base: crd.base, count: 1) else { throw .badRange }
        guard let cap = caller.pd.space.covering(crd.kind, crd.base) else { return .value(0) }
        let found = CapabilityRange(kind: cap.kind, base: cap.key, order: cap.order, permissions: cap.permissions)
        let detail: UInt64
        switch cap.kind {
        case .memory, .io: detail = cap.resourceKey
        case .object: detail = cap.object?.typeCode ?? 0
        case .null: detail = 0
        }
        return .value(found.word, detail)
    }
}
