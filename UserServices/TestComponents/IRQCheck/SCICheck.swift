import KernelABI
import UserRuntime

/// The ACPI power-management block of q35 (ICH9; OVMF puts PMBASE at 0x600): PM1 status and enable. Its SCI is
/// ISA IRQ 9, which q35's MADT makes level-triggered, active-high: the device holds it while a status bit it
/// enables is set, until the driver writes that bit back (write 1 to clear).
enum ACPIPM {
    static let irq: UInt64 = 9
    static let statusPort: UInt16 = 0x600  // PM1_STS, low byte
    static let enablePort: UInt16 = 0x602  // PM1_EN, low byte
    /// PM timer overflow (bit 23 of the 3.58 MHz PM timer flips: every 2.34 s).
    static let timerBit: UInt8 = 0x01
}

/// A level-triggered interrupt end to end (the kernel's held lines): the PM timer's overflow raises the SCI and
/// keeps it raised. The first `down` returns once; the line, still asserted, is masked until irqcheck waits again,
/// and then interrupts again at once (nothing lost); acknowledged at the device, the next timed `down` times out
/// (no storm of ups was counted while it was held).
struct SCICheck<P: UserPlatform> {
    let platform: P
    let log: LogClient<P>
    let semaphore: UInt64
    let ticksPerMillisecond: UInt64
    /// More than one PM timer overflow period (2.34 s) even under slow emulation.
    static var waitMilliseconds: UInt64 { 6000 }
    static var shortMilliseconds: UInt64 { 30 }

    var sys: SystemCalls<P> { SystemCalls(platform) }

    func deadline(milliseconds: UInt64) -> UInt64 { platform.timestamp() + milliseconds * ticksPerMillisecond }

    func acknowledge() { platform.portOut8(ACPIPM.statusPort, ACPIPM.timerBit) }

    func run() {
        acknowledge()
        platform.portOut8(ACPIPM.enablePort, ACPIPM.timerBit)
        let first = sys.down(sm: semaphore, deadline: deadline(milliseconds: Self.waitMilliseconds))
        let pending = platform.portIn8(ACPIPM.statusPort) & ACPIPM.timerBit != 0
        _ = log.write("irqcheck: SCI (irq 9): first down returned \(first.description), PM timer status \(pending ? "set" : "clear")\n")
        // Not acknowledged: waiting again opens the held line, which interrupts again at once.
        let again = sys.down(sm: semaphore, deadline: deadline(milliseconds: Self.shortMilliseconds))
        _ = log.write("irqcheck: SCI (irq 9): still asserted, the next down returned \(again.description)\n")
        platform.portOut8(ACPIPM.enablePort, 0)
        acknowledge()
        let quiet = sys.down(sm: semaphore, deadline: deadline(milliseconds: Self.shortMilliseconds))
        _ = log.write("irqcheck: SCI (irq 9): acknowledged, a timed down returned \(quiet.description)\n")
    }
}
