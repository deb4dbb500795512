/// The local APIC of a single-vCPU VM in xAPIC mode, MMIO at 0xfee00000 (or where IA32_APIC_BASE moves it): ID,
/// version (0x14, six LVT entries: timer, thermal, performance, LINT0, LINT1, error), TPR/APR/PPR, EOI, LDR/DFR,
/// SVR, ISR/TMR/IRR, ESR, ICR, the LVT and the timer (one-shot and periodic with the divide configuration; no
/// TSC-deadline mode, which the CPUID model hides; no x2APIC, likewise).
///
/// The VMM's side: `receive` takes messages (the IOAPIC's), `acceptInterrupt` fixed interrupts,
/// `highestDeliverable` says which IRR vector the CPU would take now given TPR/PPR and ISR priority, and
/// `acknowledge` moves it to ISR when the VMM injects it. NMIs (LINT1, self-IPI, IOAPIC) and ExtINT messages are
/// pending flags; while LINT0 is in ExtINT mode (virtual wire, what Linux uses before the IOAPIC) the 8259's
/// INT passes straight through (`passesExtINT`), which `InterruptRouting` reads. EOIs of level-triggered
/// vectors are collected for the IOAPIC (`takeEOIBroadcasts`), which takes them before it next acts.
///
/// Registers are 32 bits at 16-byte-aligned offsets: reads of 1, 2 or 4 bytes inside a register's first dword
/// work; writes must be 4 bytes at a register; anything else reads 0 and is dropped (and recorded), as KVM does.
public final class LocalAPIC: MMIODevice, TimedDevice {
    public static let defaultBase: UInt64 = 0xfee0_0000
    public static let regionSize: UInt64 = 0x1000
    public static let versionRegister: UInt32 = 0x0005_0014
    /// The APIC bus clock the timer counts: 1 GHz, as KVM's (Linux calibrates it against the PIT).
    public static let defaultTimerHertz: UInt64 = 1_000_000_000
    /// IA32_APIC_BASE (MSR 0x1b): BSP flag (bit 8), global enable (bit 11), base (bits 12-39).
    public static let baseMSRIndex: UInt32 = 0x1b
    static let baseMSRBSP: UInt64 = 1 << 8
    static let baseMSREnable: UInt64 = 1 << 11
    static let baseMSRAddress: UInt64 = 0x0000_00ff_ffff_f000

    // ESR bits.
    public static let sendIllegalVector: UInt32 = 1 << 5
    public static let receiveIllegalVector: UInt32 = 1 << 6
    public static let illegalRegisterAddress: UInt32 = 1 << 7

    // LVT entries, in register order from offset 0x320.
    static let timerLVT = 0, thermalLVT = 1, performanceLVT = 2, lint0LVT = 3, lint1LVT = 4, errorLVT = 5
    /// The bits software can write in each LVT entry (delivery status and remote IRR are read-only; the timer
    /// has no delivery mode and no TSC-deadline bit).
    static let lvtWritable: [UInt32] = [0x0002_00ff | masked, 0x0000_07ff | masked, 0x0000_07ff | masked,
                                        0x0000_a7ff | masked, 0x0000_a7ff | masked, 0x0000_00ff | masked]
    static let masked: UInt32 = 1 << 16
    static let levelTriggered: UInt32 = 1 << 15
    static let remoteIRR: UInt32 = 1 << 14
    static let timerPeriodic: UInt32 = 1 << 17
    static let softwareEnable: UInt32 = 1 << 8

    public private(set) var id: UInt8
    /// The task priority (CR8 is its bits 7-4; the VMM keeps the two in step).
    public var taskPriority: UInt8 = 0
    private var ldr: UInt32 = 0
    private var dfr: UInt32 = 0xffff_ffff
    private var svr: UInt32 = 0xff
    private var irr = APICVectorSet()
    private var isr = APICVectorSet()
    private var tmr = APICVectorSet()
    private var esr: UInt32 = 0
    private var errorsSinceESRWrite: UInt32 = 0
    private var icrLow: UInt32 = 0
    private var icrHigh: UInt32 = 0
    private var lvt = [UInt32](repeating: LocalAPIC.masked, count: 6)
    private var timer = LocalAPICTimer()
    private let clock: TickClock
    public private(set) var now: UInt64 = 0
    private var tick: UInt64 = 0
    public private(set) var nmiPending = false
    public private(set) var extINTPending = false
    private var lintLevels = [false, false]
    private var eoiBroadcasts = APICVectorSet()
    public private(set) var baseMSR: UInt64
    public var errors = DeviceErrorLog()

    /// The APIC of vCPU `id` with its timer on a `timerHertz` bus clock. `virtualWire` starts it as PC firmware
    /// hands it to the OS (software-enabled, spurious vector 0xff, LINT0 ExtINT, LINT1 NMI, so the 8259 reaches
    /// the CPU); otherwise in the power-on state (software-disabled, every LVT masked).
    public init(id: UInt8 = 0, timerHertz: UInt64 = LocalAPIC.defaultTimerHertz, virtualWire: Bool = true) {
        self.id = id
        clock = TickClock(hertz: timerHertz)
        baseMSR = Self.defaultBase | Self.baseMSREnable | Self.baseMSRBSP
        if virtualWire {
            svr = 0x1ff
            lvt[Self.lint0LVT] = 0x700
            lvt[Self.lint1LVT] = 0x400
        }
    }

    public var hardwareEnabled: Bool { baseMSR & Self.baseMSREnable != 0 }
    public var softwareEnabled: Bool { svr & Self.softwareEnable != 0 }
    /// Where the MMIO region is now.
    public var mmioBase: UInt64 { baseMSR & Self.baseMSRAddress }

    /// A WRMSR of IA32_APIC_BASE. False means #GP: reserved bits, or the x2APIC enable the CPUID model does not
    /// offer. Clearing the global enable puts the APIC in its power-on state.
    public func writeBaseMSR(_ value: UInt64) -> Bool {
        guard value & ~(Self.baseMSRAddress | Self.baseMSREnable | Self.baseMSRBSP) == 0 else { return false }
        let wasEnabled = hardwareEnabled
        baseMSR = value
        if wasEnabled && !hardwareEnabled { powerOnReset() }
        return true
    }

    private func powerOnReset() {
        taskPriority = 0
        ldr = 0
        dfr = 0xffff_ffff
        svr = 0xff
        irr = APICVectorSet()
        isr = APICVectorSet()
        tmr = APICVectorSet()
        esr = 0
        errorsSinceESRWrite = 0
        icrLow = 0
        icrHigh = 0
        lvt = [UInt32](repeating: Self.masked, count: 6)
        timer.stop()
        nmiPending = false
        extINTPending = false
        eoiBroadcasts = APICVectorSet()
    }

    // MARK: priorities

    /// PPR: the task priority, or the priority class of the highest vector in service if that is higher.
    public var processorPriority: UInt8 {
        let inService = isr.highest ?? 0
        return taskPriority >> 4 >= inService >> 4 ? taskPriority : inService & 0xf0
    }

    /// APR, as the SDM defines it for xAPIC.
    private var arbitrationPriority: UInt8 {
        let requested = irr.highest ?? 0
        let inService = isr.highest ?? 0
        if taskPriority >> 4 >= requested >> 4 && taskPriority >> 4 > inService >> 4 { return taskPriority }
        return max((taskPriority >> 4) & (inService >> 4), requested >> 4) << 4
    }

    /// The vector the CPU would take now: the highest requested one whose priority class is above PPR's.
    public func highestDeliverable() -> UInt8? {
        guard let vector = irr.highest, vector & 0xf0 > processorPriority & 0xf0 else { return nil }
        return vector
    }

    /// The VMM injected `vector`: IRR to ISR. False (and nothing changes) when it was not requested.
    @discardableResult
    public func acknowledge(_ vector: UInt8) -> Bool {
        guard irr.contains(vector) else { return false }
        irr.remove(vector)
        isr.insert(vector)
        return true
    }

    public func isRequested(_ vector: UInt8) -> Bool { irr.contains(vector) }
    public func isInService(_ vector: UInt8) -> Bool { isr.contains(vector) }
    public func isLevelTriggered(_ vector: UInt8) -> Bool { tmr.contains(vector) }
    public var inServiceVectors: [UInt8] { isr.vectors }

    // MARK: accepting interrupts

    /// A fixed interrupt arriving: into IRR, and into TMR when level-triggered. Refused while software-disabled
    /// (the LVT masks say so too) and for vectors 0-15 (the ESR's receive-illegal-vector error).
    @discardableResult
    public func acceptInterrupt(vector: UInt8, level: Bool) -> APICDeliveryOutcome {
        guard hardwareEnabled && softwareEnabled else { return .softwareDisabled }
        guard vector >= 16 else {
            signalError(Self.receiveIllegalVector)
            return .illegalVector
        }
        irr.insert(vector)
        if level { tmr.insert(vector) } else { tmr.remove(vector) }
        return .accepted
    }

    /// A message on the APIC bus (from the IOAPIC): accepted when its destination names this APIC.
    public func receive(_ message: APICMessage) -> APICDeliveryOutcome {
        guard hardwareEnabled && addressed(by: message.destination, logical: message.logicalDestination) else {
            return .notAddressed
        }
        switch message.deliveryMode {
        case .fixed, .lowestPriority: return acceptInterrupt(vector: message.vector, level: message.levelTriggered)
        case .nmi: nmiPending = true
        case .extINT: extINTPending = true
        case .smi, .reserved3, .initialize, .startUp: return .unsupportedMode
        }
        return .accepted
    }

    /// Whether `destination` names this APIC: its ID (physical) or its LDR under the DFR's flat or cluster
    /// model (logical); 0xff is the broadcast in both.
    public func addressed(by destination: UInt8, logical: Bool) -> Bool {
        if destination == 0xff { return true }
        guard logical else { return destination == id }
        let logicalID = UInt8(truncatingIfNeeded: ldr >> 24)
        if dfr >> 28 == 0xf { return destination & logicalID != 0 }
        return destination >> 4 == logicalID >> 4 && destination & logicalID & 0x0f != 0
    }

    /// Takes the pending NMI, if any (the VMM injected it).
    public func takeNMI() -> Bool {
        defer { nmiPending = false }
        return nmiPending
    }

    /// The ExtINT message was answered by an INTA cycle to the 8259.
    public func clearExtINT() { extINTPending = false }

    /// Whether the 8259's INT reaches the CPU through LINT0: in ExtINT mode and unmasked, or with the APIC
    /// globally disabled (LINT0 is then the CPU's INTR pin).
    public var passesExtINT: Bool {
        let lint0 = lvt[Self.lint0LVT]
        return !hardwareEnabled || lint0 & Self.masked == 0 && lint0 >> 8 & 7 == 7
    }

    /// The level-triggered vectors EOIed since the last call, for the IOAPIC's remote IRR.
    public func takeEOIBroadcasts() -> [UInt8] {
        guard !eoiBroadcasts.isEmpty else { return [] }
        defer { eoiBroadcasts = APICVectorSet() }
        return eoiBroadcasts.vectors
    }

    // MARK: LINT pins

    public func setLINT0(_ high: Bool) { setLINT(0, high) }
    public func setLINT1(_ high: Bool) { setLINT(1, high) }

    private func setLINT(_ pin: Int, _ high: Bool) {
        let rising = high && !lintLevels[pin]
        lintLevels[pin] = high
        guard hardwareEnabled else {
            if pin == 1 && rising { nmiPending = true }  // LINT1 is the CPU's NMI pin then
            return
        }
        evaluateLINT(pin, rising: rising)
    }

    /// LINT0/1 per their LVT entry: fixed (edge, or level with remote IRR until the EOI), NMI on a rising edge;
    /// ExtINT is `passesExtINT`'s.
    private func evaluateLINT(_ pin: Int, rising: Bool) {
        let index = Self.lint0LVT + pin
        let entry = lvt[index]
        guard entry & Self.masked == 0 else { return }
        let vector = UInt8(truncatingIfNeeded: entry)
        switch entry >> 8 & 7 {
        case 0:
            if entry & Self.levelTriggered != 0 {
                guard lintLevels[pin] && entry & Self.remoteIRR == 0 else { return }
                if deliverLocal(index, vector: vector, level: true) { lvt[index] |= Self.remoteIRR }
            } else if rising {
                deliverLocal(index, vector: vector, level: false)
            }
        case 4:
            if rising { nmiPending = true }
        case 7:
            break
        default:
            if rising { errors.record(.unsupportedDeliveryMode(.localAPIC, source: index, mode: UInt8(entry >> 8 & 7))) }
        }
    }

    /// A fixed interrupt from LVT entry `index`; vectors 0-15 are refused (ESR) and recorded.
    @discardableResult
    private func deliverLocal(_ index: Int, vector: UInt8, level: Bool) -> Bool {
        if vector < 16 { errors.record(.reservedVector(.localAPIC, source: index, vector: vector)) }
        return acceptInterrupt(vector: vector, level: level) == .accepted
    }

    // MARK: errors, EOI, IPIs

    /// An APIC error: logged for the next ESR write, and the error LVT's interrupt (its own illegal vector only
    /// sets the ESR bit, so this cannot recurse).
    private func signalError(_ bits: UInt32) {
        errorsSinceESRWrite |= bits
        let entry = lvt[Self.errorLVT]
        guard entry & Self.masked == 0 && softwareEnabled else { return }
        let vector = UInt8(truncatingIfNeeded: entry)
        if vector < 16 { errorsSinceESRWrite |= Self.receiveIllegalVector; return }
        irr.insert(vector)
        tmr.remove(vector)
    }

    /// EOI: the highest vector in service is done. A level-triggered one is broadcast to the IOAPIC and ends a
    /// level LINT's remote IRR (which then re-delivers while the pin is still asserted).
    private func endOfInterrupt() {
        guard let vector = isr.highest else { return }
        isr.remove(vector)
        guard tmr.contains(vector) else { return }
        eoiBroadcasts.insert(vector)
        for pin in 0..<2 {
            let index = Self.lint0LVT + pin
            guard lvt[index] & Self.remoteIRR != 0 && UInt8(truncatingIfNeeded: lvt[index]) == vector else { continue }
            lvt[index] &= ~Self.remoteIRR
            evaluateLINT(pin, rising: false)
        }
    }

    /// An ICR write sends the IPI it describes. With one vCPU only this APIC can receive: fixed and NMI IPIs
    /// to self are delivered; ones to other APICs and INIT/start-up/SMI are recorded (an INIT level de-assert,
    /// the arbitration-ID sync old Linux sends, is a no-op).
    private func sendIPI() {
        let vector = UInt8(truncatingIfNeeded: icrLow)
        let mode = UInt8(icrLow >> 8 & 7)
        let logical = icrLow & 0x800 != 0
        let destination = UInt8(truncatingIfNeeded: icrHigh >> 24)
        let toSelf: Bool
        switch icrLow >> 18 & 3 {
        case 0: toSelf = addressed(by: destination, logical: logical)
        case 1, 2: toSelf = true
        default: toSelf = false
        }
        let named: UInt8 = icrLow >> 18 & 3 == 0 ? destination : 0xff
        switch APICMessage.DeliveryMode(rawValue: mode) ?? .reserved3 {
        case .fixed, .lowestPriority:
            guard vector >= 16 else {
                errors.record(.reservedVector(.localAPIC, source: -1, vector: vector))
                signalError(Self.sendIllegalVector | (toSelf ? Self.receiveIllegalVector : 0))
                return
            }
            guard toSelf else { errors.record(.noDestination(.localAPIC, source: -1, destination: named)); return }
            acceptInterrupt(vector: vector, level: false)
        case .nmi:
            guard toSelf else { errors.record(.noDestination(.localAPIC, source: -1, destination: named)); return }
            nmiPending = true
        case .initialize where icrLow & 0x8000 != 0 && icrLow & 0x4000 == 0:
            return
        default:
            errors.record(.unsupportedDeliveryMode(.localAPIC, source: -1, mode: mode))
        }
    }

    // MARK: TimedDevice

    public func advance(to time: UInt64) {
        guard time > now else { return }
        now = time
        let newTick = clock.ticks(at: time)
        guard newTick > tick else { return }
        let fired = timer.expired(from: tick, to: newTick)
        tick = newTick
        let entry = lvt[Self.timerLVT]
        if fired && entry & Self.masked == 0 {
            deliverLocal(Self.timerLVT, vector: UInt8(truncatingIfNeeded: entry), level: false)
        }
    }

    /// The timer's next expiry while its LVT entry is unmasked.
    public var nextDeadline: UInt64? {
        guard lvt[Self.timerLVT] & Self.masked == 0 else { return nil }
        return timer.nextExpiry(after: tick).map { clock.time(ofTick: $0) }
    }

    // MARK: MMIODevice

    public func mmioRead(offset: UInt64, size: Int) -> UInt64 {
        guard hardwareEnabled, offset < Self.regionSize, size == 1 || size == 2 || size == 4,
              offset & 0xf + UInt64(size) <= 4 else {
            errors.record(.unsupportedAccess(.localAPIC, offset: offset, size: size, write: false))
            return 0
        }
        let value = UInt64(readRegister(offset & 0xff0)) >> (offset & 3 * 8)
        return size == 4 ? value : value & ((1 << UInt64(size * 8)) - 1)
    }

    public func mmioWrite(offset: UInt64, size: Int, value: UInt64) {
        guard hardwareEnabled, offset < Self.regionSize, size == 4, offset & 0xf == 0 else {
            errors.record(.unsupportedAccess(.localAPIC, offset: offset, size: size, write: true))
            return
        }
        writeRegister(offset, UInt32(truncatingIfNeeded: value))
    }

    private func readRegister(_ register: UInt64) -> UInt32 {
        switch register {
        case 0x020: return UInt32(id) << 24
        case 0x030: return Self.versionRegister
        case 0x080: return UInt32(taskPriority)
        case 0x090: return UInt32(arbitrationPriority)
        case 0x0a0: return UInt32(processorPriority)
        case 0x0b0, 0x0c0: return 0  // EOI is write-only; remote read is not implemented by xAPICs
        case 0x0d0: return ldr
        case 0x0e0: return dfr | 0x0fff_ffff
        case 0x0f0: return svr
        case 0x100...0x170: return isr.register(Int(register - 0x100) >> 4)
        case 0x180...0x1f0: return tmr.register(Int(register - 0x180) >> 4)
        case 0x200...0x270: return irr.register(Int(register - 0x200) >> 4)
        case 0x280: return esr
        case 0x300: return icrLow
        case 0x310: return icrHigh
        case 0x320...0x370: return lvt[Int(register - 0x320) >> 4]
        case 0x380: return timer.initialCount
        case 0x390: return timer.currentCount(at: tick)
        case 0x3e0: return timer.divideConfiguration
        default:
            errors.record(.reservedRegister(.localAPIC, register: register))
            signalError(Self.illegalRegisterAddress)
            return 0
        }
    }

    private func writeRegister(_ register: UInt64, _ value: UInt32) {
        switch register {
        case 0x020: id = UInt8(truncatingIfNeeded: value >> 24)
        case 0x080: taskPriority = UInt8(truncatingIfNeeded: value)
        case 0x0b0: endOfInterrupt()
        case 0x0d0: ldr = value & 0xff00_0000
        case 0x0e0: dfr = value | 0x0fff_ffff
        case 0x0f0:
            svr = value & 0x3ff
            // Software disable masks every LVT entry (and keeps them masked until it is enabled again).
            if !softwareEnabled { for index in lvt.indices { lvt[index] |= Self.masked } }
        case 0x280:
            esr = errorsSinceESRWrite
            errorsSinceESRWrite = 0
        case 0x300:
            icrLow = value & 0x000c_cfff  // delivery status stays idle: the IPI is delivered at once
            sendIPI()
        case 0x310: icrHigh = value & 0xff00_0000
        case 0x320...0x370: writeLVT(Int(register - 0x320) >> 4, value)
        case 0x380: timer.setInitialCount(value, at: tick)
        case 0x3e0: timer.reconfigure(divideConfiguration: value, at: tick)
        case 0x030, 0x090, 0x0a0, 0x0c0, 0x100...0x270, 0x390:
            errors.record(.readOnlyRegister(.localAPIC, register: register))
        default:
            errors.record(.reservedRegister(.localAPIC, register: register))
            signalError(Self.illegalRegisterAddress)
        }
    }

    private func writeLVT(_ index: Int, _ value: UInt32) {
        var entry = value & Self.lvtWritable[index]
        if !softwareEnabled { entry |= Self.masked }
        let isLINT = index == Self.lint0LVT || index == Self.lint1LVT
        // Remote IRR is the APIC's own (and means nothing for an edge-triggered entry).
        if isLINT && entry & Self.levelTriggered != 0 { entry |= lvt[index] & Self.remoteIRR }
        if index == Self.timerLVT { timer.reconfigure(periodic: entry & Self.timerPeriodic != 0, at: tick) }
        lvt[index] = entry
        if isLINT { evaluateLINT(index - Self.lint0LVT, rising: false) }
    }
}
