import KernelABI
import UserRuntime

/// The "irqcheck" test component (Tests/ImageTests/Manifests/irq.toml): drives a real device interrupt end to end.
/// It programs the CMOS RTC (ports 0x70/0x71, IRQ 8) for periodic interrupts, waits for each one with `down` on
/// its interrupt semaphore and acknowledges it by reading register C; with the interrupt off again, a timed `down`
/// must time out. Then, if granted IRQ 9, the same for a level-triggered line (SCICheck.swift). Every result is a
/// line through the "log" service.
public func irqCheckMain<P: UserPlatform>(_ platform: P, startInfo: UInt64) {
    guard let info = try? ComponentStartInfo.read(platform, at: ComponentStartInfo.address(entryArgument: startInfo)),
          let portal = info.portal(forService: "log")
    else {
        _ = platform.load64(0) // no way to speak: a fault is the only message left (the root reports it)
        return
    }
    let log = LogClient(utcb: UTCB(platform: platform, base: ComponentLayout.utcb), portal: portal)
    guard let grant = info.interrupts.first(where: { $0.irq == RTC.irq }) else {
        _ = log.write("irqcheck: error: the manifest grants no interrupt \(RTC.irq) (RTC)\n")
        return
    }
    IRQCheck(platform: platform, log: log, semaphore: grant.semaphore, ticksPerMillisecond: info.ticksPerMillisecond)
        .run()
    // The level-triggered part, when the manifest grants the SCI (Tests/ImageTests/Manifests/irq.toml does).
    if let sci = info.interrupts.first(where: { $0.irq == ACPIPM.irq }) {
        SCICheck(platform: platform, log: log, semaphore: sci.semaphore, ticksPerMillisecond: info.ticksPerMillisecond)
            .run()
    }
    // Done: wait on a semaphore nobody ups (returning would stop the EC with an invalid-opcode fault).
    let sys = SystemCalls(platform)
    let idle = ComponentSelectors.firstFree
    _ = sys.createSM(idle, count: 0)
    while sys.down(sm: idle) == .success {}
}

/// The MC146818-compatible CMOS RTC: index port, data port, the registers this test uses.
enum RTC {
    static let irq: UInt64 = 8
    static let indexPort: UInt16 = 0x70
    static let dataPort: UInt16 = 0x71
    static let registerA: UInt8 = 0x0a
    static let registerB: UInt8 = 0x0b
    static let registerC: UInt8 = 0x0c
    /// Register A rate 6: 1024 periodic interrupts per second (the divider bits above it are kept).
    static let rate1024Hz: UInt8 = 0x06
    /// Register B: periodic interrupt enable.
    static let periodicEnable: UInt8 = 0x40
    /// Register C: the periodic flag (reading C clears it and lowers the interrupt).
    static let periodicFlag: UInt8 = 0x40
}

struct IRQCheck<P: UserPlatform> {
    let platform: P
    let log: LogClient<P>
    let semaphore: UInt64
    let ticksPerMillisecond: UInt64
    static var interruptCount: Int { 32 }
    /// Far longer than one period (about 1 ms) even under slow emulation.
    static var waitMilliseconds: UInt64 { 2000 }
    static var quietMilliseconds: UInt64 { 30 }
    static var settleMilliseconds: UInt64 { 3 }
    /// Wakeups whose register C shows no periodic flag that are tolerated (see `run`).
    static var spuriousLimit: Int { 4 }

    var sys: SystemCalls<P> { SystemCalls(platform) }

    func read(_ register: UInt8) -> UInt8 {
        platform.portOut8(RTC.indexPort, register)
        return platform.portIn8(RTC.dataPort)
    }

    func write(_ register: UInt8, _ value: UInt8) {
        platform.portOut8(RTC.indexPort, register)
        platform.portOut8(RTC.dataPort, value)
    }

    func deadline(milliseconds: UInt64) -> UInt64 { platform.timestamp() + milliseconds * ticksPerMillisecond }

    /// Turns the periodic interrupt off and acknowledges it, drops the `up`s that raced with that, then shows that
    /// a timed `down` now times out (nothing else raises IRQ 8).
    func quiet(_ when: String) {
        write(RTC.registerB, read(RTC.registerB) & ~RTC.periodicEnable)
        _ = read(RTC.registerC)
        // An edge raised just before the switch-off may still be in flight: latched by the interrupt controller but
        // taken only when this EC is next in user mode, i.e. after the next hypercall. Waiting briefly until no up
        // comes any more absorbs it (and one that arrived earlier).
        while sys.down(sm: semaphore, deadline: deadline(milliseconds: Self.settleMilliseconds)) == .success {}
        let start = platform.timestamp()
        let status = sys.down(sm: semaphore, deadline: deadline(milliseconds: Self.quietMilliseconds))
        let waited = (platform.timestamp() - start) / ticksPerMillisecond
        _ = log.write("irqcheck: \(when): a \(Self.quietMilliseconds) ms timed down returned \(status.description) after \(waited) ms\n")
    }

    func run() {
        quiet("before enabling the RTC")
        write(RTC.registerA, (read(RTC.registerA) & 0xf0) | RTC.rate1024Hz)
        write(RTC.registerB, read(RTC.registerB) | RTC.periodicEnable)
        let start = platform.timestamp()
        var received = 0
        var spurious = 0
        while received < Self.interruptCount {
            let status = sys.down(sm: semaphore, deadline: deadline(milliseconds: Self.waitMilliseconds))
            guard status == .success else {
                _ = log.write("irqcheck: error: interrupt \(received + 1) did not arrive: down returned \(status.description)\n")
                break
            }
            let flags = read(RTC.registerC) // acknowledges: the RTC raises IRQ 8 again only after this read
            // An edge the RTC raised just before the previous read of C was latched by the interrupt controller but
            // taken only after this EC's next hypercall, so its up can arrive with the flag already cleared by that
            // read. Drivers of edge-triggered devices treat such a wakeup as spurious; so does this one, a few times.
            guard flags & RTC.periodicFlag != 0 else {
                spurious += 1
                guard spurious <= Self.spuriousLimit else {
                    _ = log.write("irqcheck: error: woken \(spurious) times without a periodic interrupt\n")
                    break
                }
                continue
            }
            received += 1
        }
        let elapsed = (platform.timestamp() - start) / ticksPerMillisecond
        if received == Self.interruptCount {
            _ = log.write("irqcheck: \(received) RTC interrupts received in \(elapsed) ms\n")
        }
        quiet("after disabling the RTC")
    }
}
