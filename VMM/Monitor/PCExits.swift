import DeviceModels
import InstructionDecoder
import KernelABI
import UserRuntime

/// The exits of a Linux guest's vCPU (a VM with a `PCMachine`): port I/O and MMIO go to the devices at the exit's
/// virtual time, HLT waits for the next device event, the local APIC's MSR is the device's, and before every
/// entry the interrupt routing decides what to inject (or asks for an interrupt window), so an interrupt arrives
/// exactly when the guest can take it. The guest's power-off and reset end the VM with a report.
extension ExitHandling {
    mutating func handlePC(_ machine: PCMachine<P>) -> ExitOutcome {
        let reason = state.reason
        machine.advance(to: platform.timestamp())
        let outcome: ExitOutcome
        switch reason {
        case VMExit.startup:
            guard vcpu == 0 else { return .park }
            LinuxEntry.write(from: control, into: &state)
            machine.exitStatistics.firstEntry = platform.timestamp()
            return .resume
        case VMExit.cpuid: outcome = cpuid()
        case VMExit.io: outcome = pcIO(machine)
        case VMExit.nestedPageFault: outcome = mmio(machine)
        case VMExit.hlt: outcome = pcHalt(machine)
        case VMExit.rdmsr, VMExit.wrmsr: outcome = pcMSR(machine, write: reason == VMExit.wrmsr)
        case VMExit.crAccess: outcome = crWrite()
        case VMExit.hypercall: outcome = hypercall()
        case VMExit.interruptWindow, VMExit.recall: outcome = .resume
        case VMExit.shutdown: return .stop("triple fault (shutdown)")
        case VMExit.failedEntry:
            // The state as the last reply left it: what a refusal is usually about.
            func hex(_ index: Int) -> String { "0x" + String(state.word(index), radix: 16) }
            typealias L = GuestStateLayout
            return .stop("the hardware refused its state (rflags " + hex(L.rflags) + ", cr0 " + hex(L.cr0) + ", cr4 "
                         + hex(L.cr4) + ", efer " + hex(L.efer) + ", cs " + hex(L.firstSegment + 3) + ", injection "
                         + hex(L.injection) + ", shadow " + hex(L.interruptShadow) + ", controls "
                         + hex(L.controlFlags) + ")")
        case 0..<VMExit.exceptionCount:
            // Exceptions the kernel always intercepts (#DB, #AC) or the machine reports: the guest's own, delivered
            // back to it (with the error code the exit carries, for the vectors that push one), and logged.
            let pushesCode = [8, 10, 11, 12, 13, 14, 17, 21].contains(reason)
            state.injectException(reason, errorCode: pushesCode ? state.qualification0 & 0xffff_ffff : nil)
            report(vmName + ": exception \(reason) at rip 0x" + String(state.rip, radix: 16) + " given back to the guest")
            outcome = .resume
        default: return .stop("unhandled exit")
        }
        flushConsole(machine)
        for line in machine.takeDiagnostics() { report(vmName + ": device: " + line) }
        if machine.power.powerOffRequested { return .ended(.poweredOff) }
        if machine.power.resetRequested { return .ended(.reset) }
        return outcome
    }

    /// COM1's transmitted bytes become console lines on the log, tagged with the VM's name.
    func flushConsole(_ machine: PCMachine<P>) {
        for byte in machine.serial.takeOutput() {
            if let line = control.appendConsole(byte) { report(vmName + ": " + String(decoding: line, as: UTF8.self)) }
        }
    }

    // MARK: port I/O

    private mutating func pcIO(_ machine: PCMachine<P>) -> ExitOutcome {
        let q = state.qualification0
        let port = UInt16(truncatingIfNeeded: IOQualification.port(q))
        let size = Int(IOQualification.size(q))
        let isIn = IOQualification.isIn(q)
        guard size == 1 || size == 2 || size == 4 else { return .stop("I/O of \(size) bytes") }
        let mask: UInt64 = size == 4 ? 0xffff_ffff : (1 << (8 * UInt64(size))) - 1
        if IOQualification.isString(q) {
            return pcStringIO(machine, port: port, size: size, isIn: isIn, rep: IOQualification.isRep(q))
        }
        if isIn {
            let value = UInt64(portRead(machine, port, size: size)) & mask
            let rax = state.register(0)
            state.setRegister(0, size == 4 ? value : (rax & ~mask) | value)
        } else {
            if let outcome = portWrite(machine, port, size: size, value: UInt32(truncatingIfNeeded: state.register(0) & mask)) {
                return outcome
            }
        }
        state.rip = state.qualification1
        return .resume
    }

    private func portRead(_ machine: PCMachine<P>, _ port: UInt16, size: Int) -> UInt32 {
        guard let device = machine.portDevice(port, size: size) else { return 0xffff_ffff }  // the bus floats high
        return device.portRead(port, size: size)
    }

    private func portWrite(_ machine: PCMachine<P>, _ port: UInt16, size: Int, value: UInt32) -> ExitOutcome? {
        if port == TestDevice.debugExit {
            return .stop("exited through the debug-exit port with status 0x" + String(value & 0xff, radix: 16))
        }
        machine.portDevice(port, size: size)?.portWrite(port, size: size, value: value)
        return nil
    }

    /// INS / OUTS: operands through the guest's page tables, elements of `size` bytes, rcx counts with REP.
    private mutating func pcStringIO(_ machine: PCMachine<P>, port: UInt16, size: Int, isIn: Bool,
                                     rep: Bool) -> ExitOutcome {
        let walker = GuestPageWalker(memory: memory, state: state)
        let longMode = state.word(GuestStateLayout.efer) & (1 << 10) != 0
        let addressMask: UInt64 = longMode ? .max : 0xffff_ffff
        let step: UInt64 = state.rflags & (1 << 10) != 0 ? 0 &- UInt64(size) : UInt64(size)
        var count = rep ? state.register(1) & addressMask : 1
        let segment = isIn ? 0 : 3  // es for INS, ds for OUTS
        let segmentBase = longMode ? 0 : state.word(GuestStateLayout.firstSegment + 3 * segment + 2)
        let indexRegister = isIn ? 7 : 6
        var index = state.register(indexRegister)
        while count > 0 {
            var physical: [UInt64] = []
            for i in 0..<UInt64(size) {
                let linear = (segmentBase &+ (index &+ i)) & addressMask
                guard let p = walker.physical(linear), memory.contains(p) else {
                    return .stop("string I/O operand at linear 0x" + String(linear, radix: 16) + " is not guest RAM")
                }
                physical.append(p)
            }
            if isIn {
                let value = portRead(machine, port, size: size)
                for (i, p) in physical.enumerated() { _ = memory.store8(p, UInt8(truncatingIfNeeded: value >> (8 * UInt32(i)))) }
            } else {
                var value: UInt32 = 0
                for (i, p) in physical.enumerated() { value |= UInt32(memory.load8(p) ?? 0) << (8 * UInt32(i)) }
                if let outcome = portWrite(machine, port, size: size, value: value) { return outcome }
            }
            index = index &+ step
            count -= 1
        }
        state.setRegister(indexRegister, index)
        if rep { state.setRegister(1, 0) }
        state.rip = state.qualification1
        return .resume
    }

    // MARK: MMIO

    /// A nested page fault outside RAM: a device's registers (local APIC, IOAPIC, a BAR). QEMU's SVM gives neither
    /// the instruction length nor the linear address, so the instruction is fetched through the guest's page
    /// tables, decoded and performed here, its memory operand routed to the device (or RAM) by physical address.
    private mutating func mmio(_ machine: PCMachine<P>) -> ExitOutcome {
        let physical = state.guestPhysical
        guard machine.mmioDevice(at: physical) != nil else {
            return .stop("touched guest-physical 0x" + String(physical, radix: 16) + ", which is neither its RAM nor a device")
        }
        let walker = GuestPageWalker(memory: memory, state: state)
        let cs = state.word(GuestStateLayout.firstSegment + 3)
        let attributes = cs >> 16
        let longMode = state.word(GuestStateLayout.efer) & (1 << 10) != 0
        let mode = CodeMode(csLong: longMode && attributes & 0x200 != 0, csDefaultBig: attributes & 0x400 != 0)
        let csBase = mode == .bits64 ? 0 : state.word(GuestStateLayout.firstSegment + 3 + 2)
        var bytes: [UInt8] = []
        for i in 0..<UInt64(15) {
            guard let p = walker.physical(csBase &+ state.rip &+ i), let byte = memory.load8(p) else { break }
            bytes.append(byte)
        }
        let instruction: DecodedInstruction
        do throws(DecodeError) {
            instruction = try decodeInstruction(bytes, mode: mode)
        } catch {
            return .stop("MMIO at 0x" + String(physical, radix: 16) + ": cannot decode the instruction: " + error.description)
        }
        var cpu = GuestCPUState(registers: GeneralRegisters((0..<16).map { state.register($0) }), rip: state.rip,
                                rflags: state.rflags)
        for (i, segment) in [Segment.es, .cs, .ss, .ds, .fs, .gs].enumerated() {
            cpu.segmentBases[segment] = state.word(GuestStateLayout.firstSegment + 3 * i + 2)
        }
        let ram = memory
        func target(_ linear: UInt64) -> (ram: UInt64?, device: (any MMIODevice, UInt64)?) {
            guard let p = walker.physical(linear) else { return (nil, nil) }
            if ram.contains(p) { return (p, nil) }
            return (nil, machine.mmioDevice(at: p))
        }
        let before = cpu
        do throws(EmulationError) {
            _ = try InstructionEmulator().emulate(instruction, state: &cpu, read: { linear, size in
                let t = target(linear)
                if let p = t.ram { return ram.loadBytes(p, count: size) }
                guard let (device, offset) = t.device else { return nil }
                return device.mmioRead(offset: offset, size: size)
            }, write: { linear, size, value in
                let t = target(linear)
                if let p = t.ram { return ram.storeBytes(p, count: size, value) }
                guard let (device, offset) = t.device else { return false }
                device.mmioWrite(offset: offset, size: size, value: value)
                return true
            })
        } catch {
            return .stop("MMIO at 0x" + String(physical, radix: 16) + ": " + error.description)
        }
        for n in 0..<16 where cpu.registers[UInt8(n)] != before.registers[UInt8(n)] {
            state.setRegister(n, cpu.registers[UInt8(n)])
        }
        state.rip = cpu.rip
        if cpu.rflags != before.rflags { state.rflags = cpu.rflags }
        return .resume
    }

    // MARK: HLT

    /// HLT with interrupts on: the vCPU sleeps (its handler blocks) until the devices have an interrupt for it,
    /// waking at each timer deadline to advance them; with interrupts off nothing can wake it (the VM stops).
    private mutating func pcHalt(_ machine: PCMachine<P>) -> ExitOutcome {
        guard state.rflags & (1 << 9) != 0 else { return .stop("halted with interrupts off") }
        state.skip(state.instructionLength ?? 1)
        let sm = VMMLayout.parkSM(number, vcpu)
        let longest = info.ticksPerMillisecond &* 50
        while true {
            let now = platform.timestamp()
            machine.advance(to: now)
            if machine.pc.routing.wakesHaltedCPU(interruptsEnabled: true) { break }
            let wake = min(machine.nextDeadline ?? .max, now &+ longest)
            _ = sys.down(sm: sm, deadline: wake)
        }
        state.set(GuestStateLayout.activity, 0, TransferDescriptor.interruptState)
        state.set(GuestStateLayout.interruptShadow, 0, TransferDescriptor.interruptState)
        return .resume
    }

    // MARK: MSRs

    /// The MSRs a Linux guest reads on this CPU model: IA32_APIC_BASE (the local APIC's), PAT and MTRRdefType
    /// (kept), MTRRcap and the machine-check status (nothing: no variable MTRRs, no banks), EFER; others #GP.
    private mutating func pcMSR(_ machine: PCMachine<P>, write: Bool) -> ExitOutcome {
        let index = state.register(1) & 0xffff_ffff
        let value = (state.register(2) & 0xffff_ffff) << 32 | (state.register(0) & 0xffff_ffff)
        let defaultPAT: UInt64 = 0x0007_0406_0007_0406
        var result: UInt64?
        switch index {
        case 0xc000_0080: return msr(write: write)
        case UInt64(LocalAPIC.baseMSRIndex):
            if write {
                guard machine.pc.localAPIC.writeBaseMSR(value) else { state.injectException(13, errorCode: 0); return .resume }
            } else {
                result = machine.pc.localAPIC.baseMSR
            }
        case 0x277:
            if write { control.pat = value } else { result = control.pat == 0 ? defaultPAT : control.pat }
        case 0x2ff:
            if write { control.mtrrDefaultType = value & 0xcff } else { result = control.mtrrDefaultType }
        case 0xfe, 0x179, 0x17a:
            if !write { result = 0 }
        default:
            state.injectException(13, errorCode: 0)
            return .resume
        }
        if let result {
            state.setRegister(0, result & 0xffff_ffff)
            state.setRegister(2, result >> 32)
        }
        state.skip(state.instructionLength ?? 2)
        return .resume
    }

    // MARK: entry

    /// Before the vCPU enters: the timers at the current time, then what the interrupt routing says the guest
    /// can take now (inject, or an interrupt-window exit when it cannot yet), and when the next timer event is due
    /// (the main EC recalls the vCPU then, so a guest that spins without exits still gets its ticks).
    mutating func prepareEntry(_ machine: PCMachine<P>) {
        machine.advance(to: platform.timestamp())
        // An event already on its way in: the one this exit interrupted (the kernel re-injects it) or an exception.
        let injecting = state.word(GuestStateLayout.injection) & (1 << 31) != 0
        let cpu = GuestInterruptibility(interruptsEnabled: state.rflags & (1 << 9) != 0,
                                        interruptShadow: state.word(GuestStateLayout.interruptShadow) & 1 != 0,
                                        eventPending: injecting)
        var window = false
        switch machine.pc.routing.nextInjection(cpu) {
        case .inject(let vector): state.injectInterrupt(UInt64(vector))
        case .injectNMI:
            state.set(GuestStateLayout.injection, 1 << 31 | InjectionType.nmi.rawValue << 8 | 2, TransferDescriptor.injection)
            state.set(GuestStateLayout.injectionErrorCode, 0, TransferDescriptor.injection)
        case .requestWindow: window = true
        case .nothing: break
        }
        let requested = state.word(GuestStateLayout.controlFlags) & GuestStateLayout.interruptWindowRequest != 0
        if requested != window {
            state.set(GuestStateLayout.controlFlags, window ? GuestStateLayout.interruptWindowRequest : 0,
                      TransferDescriptor.controls)
        }
        control.nextDeadline = machine.nextDeadline ?? 0
        flushConsole(machine)
    }
}

extension GuestMemory {
    /// `count` (1...8) bytes at `physical`, little-endian; nil when any lies outside RAM.
    func loadBytes(_ physical: UInt64, count: Int) -> UInt64? {
        guard count >= 1, count <= 8, contains(physical, count: UInt64(count)) else { return nil }
        var value: UInt64 = 0
        for i in 0..<count { value |= UInt64(platform.load8(base + physical + UInt64(i))) << (8 * UInt64(i)) }
        return value
    }

    func storeBytes(_ physical: UInt64, count: Int, _ value: UInt64) -> Bool {
        guard count >= 1, count <= 8, contains(physical, count: UInt64(count)) else { return false }
        for i in 0..<count { platform.store8(base + physical + UInt64(i), UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
        return true
    }
}
