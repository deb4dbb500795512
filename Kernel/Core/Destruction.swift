import KernelABI

/// Destroying objects when their original capability goes. Everything that referred to the object is unwound:
/// waiting callers are aborted, queues and timeouts forget it, its memory and quota go back to who paid.
extension Kernel {
    func destroy(_ object: KernelObject) {
        switch object {
        case .pd(let pd): destroy(pd)
        case .ec(let ec): destroy(ec)
        case .sc(let sc): destroy(sc)
        case .pt(let pt): destroy(pt)
        case .sm(let sm): destroy(sm)
        }
    }

    /// A PD: all its capabilities go (with what was derived from them and the objects it created), its ECs die, its
    /// address space is freed and its quota returns to its creator.
    func destroy(_ pd: ProtectionDomain) {
        guard pd.isAlive else { return }
        pd.isAlive = false
        for cap in pd.space.all { remove(cap) }
        for ec in executionContexts where ec.pd === pd {
            // Removing the original takes every capability to the EC with it, then destroys it.
            if let original = ec.original, original.isLive { remove(original) } else { destroy(ec) }
        }
        releaseAddressSpace(pd)
        releaseDMATable(pd)
        if pd.isVM { guestTags.release(pd) }
        protectionDomains.removeAll { $0 === pd }
        if let creator = pd.creator { creator.refund(pd.quotaLimit) }
    }

    /// An EC: its callers get `aborted`, calls it made are abandoned, its UTCB frame is freed.
    func destroy(_ ec: ExecutionContext) {
        guard ec.isAlive else { return }
        ec.isAlive = false
        ec.original = nil
        executionContexts.removeAll { $0 === ec }
        if let sm = ec.blockedOn {
            sm.waiters.removeAll { $0 === ec }
            ec.blockedOn = nil
            cancelTimeout(ec)
        }
        if let handler = ec.queuedAt { handler.pendingCallers.removeAll { $0 === ec } }
        ec.queuedAt = nil
        ec.queuedPortal = nil
        if let callee = ec.callee {
            ec.callee = nil
            abandon(callee)
        }
        if let caller = ec.caller {
            ec.caller = nil
            abortCall(of: caller, .aborted)
        }
        let pending = ec.pendingCallers
        ec.pendingCallers = []
        for caller in pending { abortCall(of: caller, .aborted) }
        ec.state = .stopped
        ec.currentSC = nil
        ec.lastCalledPortal.clear()
        if let sc = ec.boundSC { scheduler.remove(sc) }
        if let vcpu = ec.vcpu {
            // No UTCB: the platform forgets the vCPU, its state frames go back, all charged to the VMM.
            platform.releaseGuest(vcpu)
            vcpu.exitPortals.clear()
            for frame in vcpu.frames { frames.free(frame) }
            ec.chargedTo?.refund(UInt64(vcpu.frames.count))
            return
        }
        let page = ec.utcbAddress >> AddressLayout.pageShift
        if ec.pd.isAlive { unmapPages(in: ec.pd, virtualPage: page, pages: 1) }
        ec.pd.utcbPages[page] = nil
        ec.pd.changes.addressSpace = true
        frames.free(ec.utcbFrame)
        ec.chargedTo?.refund(1)
    }

    /// A handler whose caller died: drop the call (and any call it made in turn) and serve the next caller.
    func abandon(_ handler: ExecutionContext) {
        if let callee = handler.callee {
            handler.callee = nil
            abandon(callee)
        }
        guard handler.isAlive else { return }
        becomeIdle(handler)
    }

    /// An SC: it leaves the scheduler; ECs running on it stop being schedulable until they get another.
    func destroy(_ sc: SchedulingContext) {
        guard sc.isAlive else { return }
        sc.isAlive = false
        scheduler.remove(sc)
        if sc.ec.boundSC === sc { sc.ec.boundSC = nil }
        var link: ExecutionContext? = sc.ec
        while let ec = link {
            if ec.currentSC === sc { ec.currentSC = nil }
            link = ec.callee
        }
        sc.chargedTo?.refund(1)
    }

    func destroy(_ pt: Portal) {
        guard pt.isAlive else { return }
        pt.isAlive = false
        pt.chargedTo?.refund(1)
    }

    /// A semaphore: waiters return `aborted`; an interrupt line it stood for is masked again.
    func destroy(_ sm: Semaphore) {
        guard sm.isAlive else { return }
        sm.isAlive = false
        releaseInterrupt(sm)
        abortWaiters(of: sm)
        sm.chargedTo?.refund(1)
    }

    /// Every EC waiting on `sm` returns `aborted`.
    func abortWaiters(of sm: Semaphore) {
        let waiters = sm.waiters
        sm.waiters = []
        for ec in waiters {
            ec.blockedOn = nil
            cancelTimeout(ec)
            finish(ec, .aborted)
            wake(ec)
        }
    }
}
