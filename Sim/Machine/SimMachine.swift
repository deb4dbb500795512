import Kernel
import KernelABI

/// A simulated PC: RAM, the page walker, one CPU, an interrupt controller and MSI window, a one-shot timer, devices on I/O
/// ports, a virtual clock with an event queue, a seeded random source and a trace. Nothing here is global, so
/// any number of machines can run in one process.
public final class SimMachine {
    public let memory: SimPhysicalMemory
    public let walker: SimPageTableWalker
    public let cpu = SimCPU()
    public let interrupts: SimInterruptController
    /// MSI/MSI-X: devices' writes into the LAPIC window (`deviceWrite`).
    public var messages = SimMessageInterrupts()
    /// DMA remapping, when the machine has an IOMMU (`installIOMMU`); without one devices reach all of RAM.
    public private(set) var iommu: SimIOMMU?
    public var timer = SimTimer()
    public var events = SimEventQueue()
    public var random: SimRandom
    public let trace = SimTrace()
    /// Virtual time in ticks.
    public private(set) var now: UInt64 = 0
    /// Bytes the kernel wrote to its console.
    public private(set) var console: [UInt8] = []
    /// Set when the kernel did something the hardware would crash on; the run stops.
    public private(set) var kernelFault: String?
    /// Set when the CPU idled with nothing that could ever wake it.
    public internal(set) var idleForever = false
    private var devices: [UInt16: SimIODevice] = [:]

    public init(memorySize: UInt64, interruptLines: UInt64 = 24, seed: UInt64 = 0) {
        memory = SimPhysicalMemory(size: memorySize)
        walker = SimPageTableWalker(memory: memory)
        interrupts = SimInterruptController(lineCount: interruptLines)
        random = SimRandom(seed: seed)
    }

    /// What the hardware did so far (RAM accesses, page walks), for benchmarks.
    public var counters: SimCounters { memory.counters }

    public var consoleText: String { String(decoding: console, as: UTF8.self) }

    func appendConsole(_ byte: UInt8) { console.append(byte) }

    public func record(_ event: SimTraceEvent) { trace.record(event, at: now) }

    public func reportKernelFault(_ what: String) {
        if kernelFault == nil { kernelFault = what }
        record(.kernelFault(what))
    }

    // MARK: devices

    public func attach(_ device: SimIODevice) {
        for port in device.ports {
            precondition(devices[port] == nil, "I/O port \(simHex(UInt64(port))) claimed twice")
            devices[port] = device
        }
    }

    /// An `in` from user code that passed the permission check; unclaimed ports read 0xff like an empty bus.
    public func portIn(_ port: UInt16) -> UInt8 {
        let value = devices[port]?.portIn(port, machine: self) ?? 0xff
        record(.ioPort(port: port, value: value, write: false))
        return value
    }

    public func portOut(_ port: UInt16, _ value: UInt8) {
        record(.ioPort(port: port, value: value, write: true))
        devices[port]?.portOut(port, value, machine: self)
    }

    // MARK: interrupts and events

    /// An edge on `irq`, now.
    public func raiseInterrupt(_ irq: UInt64) {
        record(.interruptRaised(irq: irq))
        interrupts.pulse(irq)
    }

    /// Gives the machine an IOMMU (before the kernel boots: the platform then offers DMA remapping).
    /// With `interruptRemapping` device messages go through its remapping table too.
    public func installIOMMU(interruptRemapping: Bool = false) {
        iommu = SimIOMMU(memory: memory, interruptRemapping: interruptRemapping)
    }

    /// A device's 32-bit memory write (bus master, PCI requester ID `requester`): into the LAPIC window it is a
    /// message interrupt (`messages`, remapped first when the IOMMU remaps interrupts), elsewhere it lands in RAM, through the IOMMU if there
    /// is one (blocked: recorded as its fault and in the trace). Returns what became of a message.
    @discardableResult
    public func deviceWrite(address: UInt64, value: UInt32, requester: UInt64 = 0) -> SimMessageInterrupts.Outcome? {
        if MessageInterrupt.x86Window.contains(address) {
            var outcome: SimMessageInterrupts.Outcome
            if let iommu, iommu.interruptRemapping {
                switch iommu.remap(requester, address: address, data: value) {
                case .success(let remapped):
                    outcome = messages.write(address: remapped.address, data: UInt32(truncatingIfNeeded: remapped.data))
                case .failure(let fault):
                    outcome = .ignored("blocked: \(fault)")
                }
            } else {
                outcome = messages.write(address: address, data: value)
            }
            record(.deviceMessage(address: address, data: value, outcome: outcome))
            return outcome
        }
        guard let physical = dmaAddress(address, requester: requester, write: true) else { return nil }
        for i in 0..<4 {
            do throws(SimPhysicalMemoryError) {
                try memory.write8(physical &+ UInt64(i), UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))))
            } catch {
                record(.note("device write at \(simHex(physical)) beyond RAM: dropped"))
                return nil
            }
        }
        return nil
    }

    /// A device's 32-bit memory read (DMA), nil when the IOMMU blocks it or it is beyond RAM.
    public func deviceRead(address: UInt64, requester: UInt64 = 0) -> UInt32? {
        guard let physical = dmaAddress(address, requester: requester, write: false) else { return nil }
        var value: UInt32 = 0
        for i in 0..<4 {
            guard let byte = try? memory.read8(physical &+ UInt64(i)) else { return nil }
            value |= UInt32(byte) << (8 * UInt32(i))
        }
        return value
    }

    private func dmaAddress(_ address: UInt64, requester: UInt64, write: Bool) -> UInt64? {
        guard let iommu else { return address }
        guard let physical = iommu.translate(requester, address, write: write) else {
            record(.note(iommu.faults.last.map { $0.description } ?? "DMA blocked"))
            return nil
        }
        return physical
    }

    public func schedule(after delay: UInt64, _ label: String, _ action: @escaping (SimMachine) -> Void) {
        events.schedule(at: now + delay, label, action)
    }

    /// Moves the clock forward `ticks`, running every event that falls due on the way, at its own time.
    public func advance(by ticks: UInt64) { advance(to: now + ticks) }

    public func advance(to time: UInt64) {
        while let next = events.nextTime, next <= time {
            if next > now { now = next }
            runDueEvents()
        }
        if time > now { now = time }
    }

    private func runDueEvents() {
        while let event = events.popDue(now: now) {
            record(.event(event.label))
            event.action(self)
        }
    }

    /// What would stop user code right now: the timer, then the lowest deliverable interrupt line, then the lowest
    /// pending message interrupt.
    /// Taking it acknowledges it (the timer disarms, the line goes in service).
    public func takePendingExit() -> Exit? {
        if timer.fire(at: now) { return .timer }
        if let irq = interrupts.acknowledge() { return .interrupt(irq: irq) }
        if let index = messages.acknowledge() { return .interrupt(irq: RootSelectors.lineCount + index) }
        return nil
    }

    /// Whether `takePendingExit` would return something.
    public var hasPendingExit: Bool {
        if let d = timer.deadline, now >= d { return true }
        return interrupts.deliverable != nil || messages.deliverable != nil
    }

    /// The next time something can happen without user code running: the timer or a scheduled event.
    public var nextWakeTime: UInt64? {
        switch (timer.deadline, events.nextTime) {
        case (nil, nil): return nil
        case (let t?, nil): return t
        case (nil, let e?): return e
        case (let t?, let e?): return min(t, e)
        }
    }
}
