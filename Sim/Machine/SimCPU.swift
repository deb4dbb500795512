/// The CPU's mode and control state. The kernel runs in `.kernel` mode; `enterUser` switches to `.user` for the
/// duration of one run of user code and back on every exit, so an exit can only be produced from user mode.
public final class SimCPU {
    public enum Mode: Equatable, Sendable { case kernel, user }

    public private(set) var mode: Mode = .kernel
    /// CR3: the page-table root made current by `activateAddressSpace`.
    public var activeRoot: UInt64 = 0
    /// How many times user mode was entered (for tests and statistics).
    public private(set) var userEntries: UInt64 = 0

    public init() {}

    func enterUserMode() {
        precondition(mode == .kernel, "enterUser while already in user mode")
        mode = .user
        userEntries += 1
    }

    func returnToKernelMode() {
        precondition(mode == .user, "exit to the kernel while not in user mode")
        mode = .kernel
    }
}
