import KernelABI

/// Running vCPUs: entering the guest with its tag and ports, refusing states the hardware would not enter, and
/// delivering exits as calls to the VMM's portal at the vCPU's event base + exit number (ABI.md, "Virtual
/// machines"). The message is the vCPU state the portal's transfer descriptor asks for, at fixed UTCB words.
extension Kernel {
    /// Enters `vcpu`'s guest: its VM PD's tag (flushed when new to it), the ports its VM PD holds.
    @_optimize(speed)
    func enterGuest(_ ec: ExecutionContext, _ vcpu: VirtualCPU) -> Exit {
        let vm = ec.pd
        if vm.guestTag == 0 || vcpu.tag != vm.guestTag {
            // A VM PD keeps its tag until recycled (GuestTagAllocator): only a new one costs an assignment.
            let (tag, fresh, flushAll) = guestTags.assign(vm)
            if flushAll { platform.flushGuestTranslations(tag: nil) }
            if fresh { platform.flushGuestTranslations(tag: tag) }
            vcpu.tag = tag
        }
        if vcpu.ioPermissionsVersion != vm.ioBitmapChanges {
            vcpu.ioPermissions = vm.ioBitmap.isEmpty ? nil : vm.ioBitmap
            vcpu.ioPermissionsStamp = vm.ioBitmap.isEmpty ? 0 : makeID()
            vcpu.ioPermissionsVersion = vm.ioBitmapChanges
        }
        return platform.enterGuest(vcpu)
    }

    /// Why `vcpu` cannot be entered now: a refused reply, or a state the hardware would refuse. Only a state the
    /// kernel changed needs the check: the guest cannot leave one behind that fails it (the hardware faults such
    /// CR0 writes, CR4 writes and EFER accesses always exit), so an exit answered with registers and rip only
    /// costs no check.
    @_optimize(speed)
    func entryProblem(_ vcpu: VirtualCPU) -> String? {
        if let failure = vcpu.pendingFailure { return failure }
        guard vcpu.dirtyGroups & GuestState.checkedGroups != 0 else { return nil }
        currentGuestState(vcpu, groups: GuestState.checkedGroups)
        return vcpu.state.entryProblem
    }

    /// Makes `groups` of `vcpu.state` current (VirtualCPU's invariants) before the kernel reads them.
    @_optimize(speed) @inline(__always)
    func currentGuestState(_ vcpu: VirtualCPU, groups: UInt64) {
        if vcpu.staleGroups & groups != 0 { platform.fetchGuestState(vcpu, groups: groups) }
    }

    /// Delivers exit `failedEntry` instead of entering (the state stays as the VMM left it).
    func refuseEntry(_ ec: ExecutionContext, _ problem: String) {
        guard let vcpu = ec.vcpu else { return }
        vcpu.pendingFailure = nil
        vcpu.state.exitReason = VMExit.failedEntry
        vcpu.state.qualification0 = 0
        vcpu.state.qualification1 = 0
        vcpu.lastFailure = problem
        raiseGuestExit(ec, vcpu, VMExit.failedEntry)
    }

    /// Calls the VMM's portal for exit `reason`. Without one, startup and recall are skipped (the vCPU runs on);
    /// any other exit stops the vCPU with a console line. Returns whether a call was started.
    @discardableResult
    func raiseGuestExit(_ ec: ExecutionContext, _ vcpu: VirtualCPU, _ reason: UInt64) -> Bool {
        vcpu.state.exitReason = reason
        let selector = ec.eventBase &+ reason
        let optional = reason == VMExit.startup || reason == VMExit.recall
        guard let portal = try? callablePortal(ec, selector).object else {
            if !optional { stopGuest(ec, vcpu, "no exit portal at selector \(hex(selector))") }
            return false
        }
        prepareExitCall(ec, vcpu, through: portal)
        do throws(Failure) {
            try enter(portal, from: ec, kind: .vmExit)
            return true
        } catch {
            if !optional { stopGuest(ec, vcpu, "exit portal for exit \(reason) failed (\(error.status))") }
            return false
        }
    }

    /// What an exit call carries besides the message: the portal's transfer descriptor (packing may happen later,
    /// when a busy handler takes the call) and the exit for an abort's console line.
    @inline(__always)
    func prepareExitCall(_ ec: ExecutionContext, _ vcpu: VirtualCPU, through portal: Portal) {
        vcpu.transfer = portal.mtd
        ec.pendingEvent = (vcpu.state.exitReason, vcpu.state.qualification0, vcpu.state.guestPhysical)
    }

    func stopGuest(_ ec: ExecutionContext, _ vcpu: VirtualCPU, _ why: String) {
        currentGuestState(vcpu, groups: TransferDescriptor.all)
        ec.state = .stopped
        log("kernel: \(ec.name) stopped: exit \(vcpu.state.exitReason) qualification \(hex(vcpu.state.qualification0)) "
            + "rip \(hex(vcpu.state.rip)): \(why)")
    }

    /// The exit message: the groups of the portal's transfer descriptor at `GuestStateLayout` words.
    @_optimize(speed)
    func packGuestState(of ec: ExecutionContext, into handler: ExecutionContext) {
        ec.vcpuLink?.withObject { packGuestState(of: $0, into: handler) }
    }

    @_optimize(speed)
    func packGuestState(of vcpu: VirtualCPU, into handler: ExecutionContext) {
        let registers = TransferDescriptor.generalRegisters
        let utcb = handler.utcbFrame
        // Registers the hardware still holds go straight to the UTCB.
        var direct: UInt64 = 0
        if vcpu.transfer & registers != 0 && vcpu.staleGroups & registers != 0 {
            platform.copyGuestRegisters(vcpu, out: true, physical: utcb &+ UInt64(GuestStateLayout.firstGeneralRegister) &* 8)
            direct = registers
        }
        currentGuestState(vcpu, groups: vcpu.transfer & ~direct)
        vcpu.state.write(vcpu.transfer, skipping: direct, { word, value in self.setUTCBWord(handler, word, value) },
                         storeWords: { first, words in self.platform.writePhysicalWords(utcb &+ UInt64(first) &* 8, from: words) })
        setUTCBWord(handler, UTCBLayout.countsWord,
                    UTCBLayout.counts(untyped: GuestStateLayout.words - UTCBLayout.firstDataWord, typed: 0))
    }

    /// The reply: the groups its MTD word names are checked and written back; a reply the guest cannot have is
    /// refused whole and reported as exit `failedEntry` before the next entry.
    @_optimize(speed) @inline(__always)
    func unpackGuestState(from handler: ExecutionContext, to ec: ExecutionContext) {
        ec.vcpuLink?.withObject { unpackGuestState(from: handler, to: $0) }
    }

    @_optimize(speed)
    func unpackGuestState(from handler: ExecutionContext, to vcpu: VirtualCPU) {
        let mtd = utcbWord(handler, GuestStateLayout.mtd)
        guard mtd & ~TransferDescriptor.all == 0 else {
            vcpu.pendingFailure = "reply MTD \(hex(mtd)) names groups that do not exist"
            return
        }
        // Registers go straight to the hardware (they have nothing to check), after the checks of the rest.
        let registers = mtd & TransferDescriptor.generalRegisters
        let written = mtd & ~TransferDescriptor.qualification & ~registers
        let utcb = handler.utcbFrame
        if let problem = vcpu.state.read(written, { self.utcbWord(handler, $0) },
                                         loadWords: { first, words in self.platform.readPhysicalWords(utcb &+ UInt64(first) &* 8, into: words) }) {
            vcpu.pendingFailure = "reply refused: " + problem
            return
        }
        // Every group read is written whole: it is current here and newer than the hardware's copy.
        vcpu.staleGroups &= ~written
        vcpu.dirtyGroups |= written
        if registers != 0 {
            platform.copyGuestRegisters(vcpu, out: false, physical: utcb &+ UInt64(GuestStateLayout.firstGeneralRegister) &* 8)
            vcpu.staleGroups |= registers
            vcpu.dirtyGroups &= ~registers
        }
    }

    /// After a VM PD's nested mapping changed: no vCPU of it may use what it cached (before the revoke returns).
    func flushGuestMappings(of vm: ProtectionDomain) {
        guard vm.guestTag != 0 else { return }
        platform.flushGuestTranslations(tag: vm.guestTag)
    }
}
