import KernelABI

/// How a VMM tells the root task that one of its VMs ended. It calls its root request portal (the registration
/// portal, `ComponentSelectors.registration`, which serves every request a component makes of the root task) with
/// three untyped words and no typed item: `request` (above every service id, so never a registration), the VM's
/// index in the VMM's start-info list of VMs, and how it ended (`How`). The root task prints and records it. The
/// reply's first untyped word is a `Status`: `badState` when the caller runs no VMs or reported that VM already,
/// `badRange` for an unknown VM or `how`.
public enum VMEndReport {
    public static let request: UInt64 = 1 << 63

    public enum How: UInt64, Sendable {
        /// ACPI power-off (SLP_TYP S5 with SLP_EN).
        case poweredOff = 1
        /// The guest reset itself (the VMM does not restart it).
        case reset = 2
        /// The VMM stopped it: an exit it could not handle, a triple fault, a refused state, the debug-exit port.
        case stopped = 3

        public var description: String {
            switch self {
            case .poweredOff: return "powered off"
            case .reset: return "reset itself"
            case .stopped: return "was stopped by its VMM"
            }
        }
    }

    /// Sends the report from the caller's UTCB `utcb` (its message words are overwritten).
    public static func send<P: UserPlatform>(_ utcb: UTCB<P>, vm: Int, how: How) -> Status {
        utcb.setMessage(untyped: [request, UInt64(vm), how.rawValue], typed: [])
        let status = SystemCalls(utcb.platform).call(portal: ComponentSelectors.registration)
        guard status == .success else { return status }
        return Status(rawValue: utcb.data(0)) ?? .badState
    }
}
