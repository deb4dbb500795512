import Kernel
import KernelABI

/// The simulator platform's vCPUs: each runs on its own `SimGuestCPU` (Sim/Guest, Unicorn underneath) with the
/// VM PD's nested page table (built by the kernel in simulated RAM) as its nested mapping. The kernel's
/// vendor-neutral `GuestState` is copied in before and out after each run; what only the engine keeps (the
/// system-call MSRs) stays in the vCPU's `SimGuestState` between runs. Guest instructions are virtual time.
///
/// What the simulated machine tells the VMM follows QEMU's SVM (no next-rip save, no decode assists), so the same
/// VMM code serves both: the instruction length is known only for CPUID, HLT, RDMSR/WRMSR, VMMCALL/VMCALL and I/O.
final class SimGuestRecord {
    let cpu: SimGuestCPU
    var state = SimGuestState()
    init(cpu: SimGuestCPU) { self.cpu = cpu }
}

extension SimPlatform {
    /// Guest instructions per tick of the machine's clock.
    public static var guestInstructionsPerTick: UInt64 { 10 }
    /// The most a guest runs in one entry (the timer usually ends it first).
    public static var guestSliceLimit: UInt64 { 200_000 }

    /// MSRs a guest reads and writes itself (switched with its state): ABI.md's list.
    static let guestOwnedMSRs: Set<UInt32> = [
        SimGuestMSR.fsBase, SimGuestMSR.gsBase, SimGuestMSR.kernelGSBase, SimGuestMSR.star, SimGuestMSR.lstar,
        SimGuestMSR.cstar, SimGuestMSR.sfmask, SimGuestMSR.sysenterCS, SimGuestMSR.sysenterESP, SimGuestMSR.sysenterEIP,
    ]

    func guestRecord(_ vcpu: VirtualCPU) -> SimGuestRecord? {
        let key = ObjectIdentifier(vcpu)
        if let record = guestCPUs[key] { return record }
        let memory = machine.memory
        let root = vcpu.nestedRoot
        let lookup: SimGuestNestedLookup
        switch nestedPaging {
        case .x86_64:
            let walker = SimPageTableWalker(memory: memory)
            // The lookup gets a guest-physical page address; the nested table is walked as a user access would be.
            lookup = { page in
                guard let t = try? walker.translate(root: root, address: page, access: .read, privilege: .user) else {
                    return nil
                }
                return SimGuestNestedMapping(hostPhysical: t.physical & ~0xfff, read: true, write: t.writable,
                                             execute: t.executable)
            }
        case .ept:
            let walker = SimEPTWalker(memory: memory)
            let machine = self.machine
            lookup = { page in
                switch walker.translate(root: root, guestPhysical: page) {
                case .mapped(let host, let read, let write, let execute):
                    return SimGuestNestedMapping(hostPhysical: host, read: read, write: write, execute: execute)
                case .notMapped:
                    return nil
                case .misconfigured(let why):
                    machine.reportKernelFault("EPT misconfiguration: " + why)
                    return nil
                }
            }
        }
        guard let cpu = try? SimGuestCPU(memory: memory, nested: lookup) else { return nil }
        let record = SimGuestRecord(cpu: cpu)
        guestCPUs[key] = record
        return record
    }

    public func enterGuest(_ vcpu: VirtualCPU) -> Exit {
        machine.advance(by: ticksPerUserEntry)
        if let exit = machine.takePendingExit() { return exit }
        guard let record = guestRecord(vcpu) else {
            vcpu.state.exitReason = VMExit.failedEntry
            return .guest
        }
        // Run until the next thing the machine must do (timer or device event), at most a slice.
        let wake = machine.nextWakeTime.map { $0 > machine.now ? $0 - machine.now : 1 } ?? UInt64.max / 1024
        let budget = min(wake * Self.guestInstructionsPerTick, Self.guestSliceLimit)
        // Like the SVM backend, only what the kernel changed goes in, and the bulky groups stay in the engine after
        // the exit until the kernel fetches them: a missing fetch shows in the simulator's tests too.
        record.state.take(vcpu.state, groups: vcpu.dirtyGroups)
        vcpu.dirtyGroups = 0
        let ports = vcpu.ioPermissions
        var controls = SimGuestControls()
        controls.interceptsPort = { port in !(ports?.allows(UInt64(port)) ?? false) }
        controls.interceptsMSR = { msr, _ in !Self.guestOwnedMSRs.contains(msr) }
        controls.exceptionBitmap = vcpu.state.exceptionBitmap
        // CR4 writes always exit, so the VMM decides which features a guest may turn on (its CPUID model).
        controls.crWrites = 1 << 4
        controls.interruptWindow = vcpu.state.interruptWindowRequested
        let bus = self.machine
        controls.ioPassthrough = { port, size, written in
            var value: UInt32 = 0
            for i in 0..<size {
                let p = port &+ UInt16(i)
                if let written { bus.portOut(p, UInt8(truncatingIfNeeded: written >> (8 * UInt32(i)))) } else {
                    value |= UInt32(bus.portIn(p)) << (8 * UInt32(i))
                }
            }
            return value
        }
        let startClock = record.cpu.clock
        let exit = record.cpu.run(&record.state, controls: controls, asid: UInt32(truncatingIfNeeded: vcpu.tag),
                                  budget: budget)
        let ran = record.cpu.clock &- startClock
        guestInstructions &+= ran
        // The kernel sees only "failed entry": the trace keeps why the guest CPU refused the state.
        if case .failedEntry(let error) = exit { machine.record(.note("guest entry failed: \(error)")) }
        machine.advance(by: max(1, (ran + Self.guestInstructionsPerTick - 1) / Self.guestInstructionsPerTick))
        let rip = vcpu.state.rip
        record.state.give(to: &vcpu.state, groups: ~GuestState.deferrableGroups)
        vcpu.staleGroups = GuestState.deferrableGroups
        guard vcpu.state.describe(exit, rip: rip) else { return machine.takePendingExit() ?? .timer }
        return .guest
    }

    public func fetchGuestState(_ vcpu: VirtualCPU, groups: UInt64) {
        let stale = vcpu.staleGroups & groups
        guard stale != 0, let record = guestCPUs[ObjectIdentifier(vcpu)] else { return }
        record.state.give(to: &vcpu.state, groups: stale, deferredOnly: true)
        vcpu.staleGroups &= ~stale
    }

    public func copyGuestRegisters(_ vcpu: VirtualCPU, out: Bool, physical address: UInt64) {
        guard let record = guestRecord(vcpu) else { return }
        for i in 0..<15 {
            let at = address &+ UInt64(i) &* 8
            let n = i < 4 ? i : i + 1   // GuestState order skips rsp (x86 register 4)
            if out { writePhysical(at, record.state[gpr: n]) } else { record.state[gpr: n] = readPhysical(at) }
        }
    }

    /// A new vCPU may reuse the address (and so the key) of a dead one: its engine must not outlive it.
    public func releaseGuest(_ vcpu: VirtualCPU) { guestCPUs[ObjectIdentifier(vcpu)] = nil }

    public func flushGuestTranslations(tag: UInt64?) {
        for (_, record) in guestCPUs {
            if let tag { record.cpu.flush(asid: UInt32(truncatingIfNeeded: tag)) } else { record.cpu.flushAll() }
        }
    }
}

extension SimGuestState {
    // (internal: the platform converts the kernel's view)
    /// Loads the kernel's view of a vCPU: the deferrable groups in `groups` (the others always; what the engine
    /// keeps besides stays).
    public mutating func take(_ s: GuestState, groups: UInt64 = TransferDescriptor.all) {
        if groups & TransferDescriptor.generalRegisters != 0 {
            rax = s.registers[0]; rcx = s.registers[1]; rdx = s.registers[2]; rbx = s.registers[3]
            rbp = s.registers[4]; rsi = s.registers[5]; rdi = s.registers[6]
            r8 = s.registers[7]; r9 = s.registers[8]; r10 = s.registers[9]; r11 = s.registers[10]
            r12 = s.registers[11]; r13 = s.registers[12]; r14 = s.registers[13]; r15 = s.registers[14]
        }
        rsp = s.rsp; rip = s.rip; rflags = s.rflags
        if groups & TransferDescriptor.controlRegisters != 0 {
            cr0 = s.cr0; cr2 = s.cr2; cr3 = s.cr3; cr4 = s.cr4; efer = s.efer
        }
        if groups & TransferDescriptor.segments != 0 {
            let segs = s.segments.map { SimGuestSegment(selector: $0.selector, base: $0.base, limit: $0.limit,
                                                        attributes: $0.attributes) }
            es = segs[0]; cs = segs[1]; ss = segs[2]; ds = segs[3]; fs = segs[4]; gs = segs[5]; ldtr = segs[6]; tr = segs[7]
        }
        if groups & TransferDescriptor.descriptorTables != 0 {
            gdtr = SimGuestDescriptorTable(base: s.gdtrBase, limit: UInt16(truncatingIfNeeded: s.gdtrLimit))
            idtr = SimGuestDescriptorTable(base: s.idtrBase, limit: UInt16(truncatingIfNeeded: s.idtrLimit))
        }
        interruptShadow = s.interruptShadow
        activity = s.halted ? .halted : .running
        tscOffset = s.tscOffset
        pendingEvent = nil
        if s.injection & (1 << 31) != 0 {
            let type: SimGuestEventType
            switch (s.injection >> 8) & 7 {
            case InjectionType.nmi.rawValue: type = .nmi
            case InjectionType.exception.rawValue: type = .exception
            case InjectionType.softwareInterrupt.rawValue: type = .softwareInterrupt
            default: type = .externalInterrupt
            }
            let hasCode = s.injection & (1 << 11) != 0
            pendingEvent = SimGuestEvent(vector: UInt8(truncatingIfNeeded: s.injection), type: type,
                                         errorCode: hasCode ? UInt32(truncatingIfNeeded: s.injectionErrorCode) : nil)
        }
    }

    /// Writes the engine's state back into the kernel's view: the deferrable groups in `groups`, and unless
    /// `deferredOnly` the others too (an event not delivered yet stays to inject).
    public func give(to s: inout GuestState, groups: UInt64 = TransferDescriptor.all, deferredOnly: Bool = false) {
        if groups & TransferDescriptor.generalRegisters != 0 {
            s.registers = [rax, rcx, rdx, rbx, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15]
        }
        if groups & TransferDescriptor.controlRegisters != 0 {
            s.cr0 = cr0; s.cr2 = cr2; s.cr3 = cr3; s.cr4 = cr4; s.efer = efer
        }
        if groups & TransferDescriptor.segments != 0 {
            s.segments = [es, cs, ss, ds, fs, gs, ldtr, tr].map {
                SegmentState(selector: $0.selector, attributes: $0.attributes, limit: $0.limit, base: $0.base)
            }
        }
        if groups & TransferDescriptor.descriptorTables != 0 {
            s.gdtrBase = gdtr.base; s.gdtrLimit = UInt64(gdtr.limit)
            s.idtrBase = idtr.base; s.idtrLimit = UInt64(idtr.limit)
        }
        if deferredOnly { return }
        s.rsp = rsp; s.rip = rip; s.rflags = rflags
        s.interruptShadow = interruptShadow
        s.halted = activity == .halted
        s.tscOffset = tscOffset
        if pendingEvent == nil { s.injection = 0 }
    }
}

extension GuestState {
    /// Records `exit` as the vCPU's exit information; false when it is not a VM exit (the slice ended).
    mutating func describe(_ exit: SimGuestExit, rip: UInt64) -> Bool {
        qualification0 = 0; qualification1 = 0; qualificationFlags = 0
        guestLinear = 0; guestPhysical = 0; instructionLength = 0
        func length(_ next: UInt64) {
            instructionLength = next &- self.rip
            qualificationFlags |= GuestStateLayout.lengthKnown
        }
        switch exit {
        case .cpuid(let next): exitReason = VMExit.cpuid; length(next)
        case .hlt(let next): exitReason = VMExit.hlt; length(next)
        case .io(let e):
            exitReason = VMExit.io
            qualification0 = IOQualification.make(port: UInt64(e.port), size: UInt64(e.size), isIn: e.isIn,
                                                  isString: e.isString, isRep: e.isRep)
            qualification1 = e.nextRip
            length(e.nextRip)
        case .msrRead(let msr, let next): exitReason = VMExit.rdmsr; qualification0 = UInt64(msr); length(next)
        case .msrWrite(let msr, _, let next): exitReason = VMExit.wrmsr; qualification0 = UInt64(msr); length(next)
        case .crRead(let cr, let gpr, _):
            exitReason = VMExit.crAccess
            qualification0 = UInt64(cr) | UInt64(gpr ?? 0xf) << 8
        case .crWrite(let cr, let value, _):
            exitReason = VMExit.crAccess
            qualification0 = UInt64(cr) | 1 << 4
            qualification1 = value
        case .invlpg(let address, _):
            exitReason = VMExit.invlpg
            guestLinear = address
            qualificationFlags |= GuestStateLayout.linearKnown
        case .rdtsc: exitReason = VMExit.rdtsc
        case .exception(let vector, let errorCode, let cr2):
            exitReason = UInt64(vector)
            qualification0 = UInt64(errorCode ?? 0)
            qualification1 = cr2 ?? 0
        case .virtualization(let instruction, let next):
            switch instruction {
            case .vmmcall, .vmcall: exitReason = VMExit.hypercall; length(next)
            default: exitReason = VMExit.virtualizationInstruction
            }
        case .nestedPageFault(let gpa, let access):
            exitReason = VMExit.nestedPageFault
            guestPhysical = gpa
            switch access {
            case .read: qualification0 = NestedFaultQualification.read
            case .write: qualification0 = NestedFaultQualification.write
            case .execute: qualification0 = NestedFaultQualification.execute
            }
        case .shutdown: exitReason = VMExit.shutdown
        case .interruptWindow: exitReason = VMExit.interruptWindow
        case .recall: exitReason = VMExit.recall
        case .failedEntry: exitReason = VMExit.failedEntry
        case .budgetExhausted, .halted: return false
        }
        return true
    }
}
