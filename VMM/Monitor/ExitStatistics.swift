import KernelABI

/// A Linux guest's exits counted by reason, with the timestamp ticks its VMM handler spent on them (from the exit's
/// first line to its reply; under QEMU `-icount shift=0` a tick is an instruction), and the timestamp of the first
/// entry. Reported when the VM ends (`ExitHandler`): tools/bench-linux reads these lines. Kept in the VM's
/// `PCMachine`; the counters are allocated once there, so recording an exit allocates nothing.
struct ExitStatistics {
    private var counts = [UInt64](repeating: 0, count: Int(VMExit.count))
    private var ticks = [UInt64](repeating: 0, count: Int(VMExit.count))
    /// The VMM's timestamp when the guest's first instruction was about to run (its startup exit).
    var firstEntry: UInt64?

    var total: UInt64 { counts.reduce(0, &+) }

    mutating func record(_ reason: UInt64, ticks spent: UInt64) {
        guard reason < VMExit.count else { return } // the kernel never reports another; not worth a crash
        counts[Int(reason)] &+= 1
        ticks[Int(reason)] &+= spent
    }

    /// One line per reason that occurred, most frequent first: "<name> <count> exits, <ticks> ticks each in the VMM".
    func lines() -> [String] {
        let seen = (0..<Int(VMExit.count)).filter { counts[$0] != 0 }
        let ordered = seen.sorted { counts[$0] != counts[$1] ? counts[$0] > counts[$1] : $0 < $1 }
        return ordered.map { reason in
            Self.name(UInt64(reason)) + " \(counts[reason]) exits, \(ticks[reason] / counts[reason]) ticks each in the VMM"
        }
    }

    static func name(_ reason: UInt64) -> String {
        switch reason {
        case 0..<VMExit.exceptionCount: return "exception-\(reason)"
        case VMExit.cpuid: return "cpuid"
        case VMExit.hlt: return "hlt"
        case VMExit.io: return "io"
        case VMExit.rdmsr: return "rdmsr"
        case VMExit.wrmsr: return "wrmsr"
        case VMExit.crAccess: return "cr-access"
        case VMExit.invlpg: return "invlpg"
        case VMExit.rdtsc: return "rdtsc"
        case VMExit.hypercall: return "hypercall"
        case VMExit.virtualizationInstruction: return "virtualization-instruction"
        case VMExit.nestedPageFault: return "mmio"
        case VMExit.shutdown: return "shutdown"
        case VMExit.interruptWindow: return "interrupt-window"
        case VMExit.failedEntry: return "failed-entry"
        case VMExit.xsetbv: return "xsetbv"
        case VMExit.startup: return "startup"
        case VMExit.recall: return "recall"
        default: return "exit-\(reason)"
        }
    }
}
