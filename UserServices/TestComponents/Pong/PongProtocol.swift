import KernelABI

/// The "pong" test service, used to exercise IPC between two ring-3 PDs on every machine: untyped word 0 of a
/// call is an operation; the reply's word 0 is a `Status`, word 1 a result.
public enum PongProtocol {
    /// Reply with word 1 = request word 1 + 1 (the IPC round trip the benchmark counts).
    public static let echo: UInt64 = 1
    /// Delegate one page of pong's memory (read/write) into the caller's memory receive window, at the page number
    /// given in request word 1; the page holds `sharedPattern` in its first word.
    public static let share: UInt64 = 2
    /// Revoke everything derived from the shared page: the caller loses its mapping.
    public static let revoke: UInt64 = 3

    public static let sharedPattern: UInt64 = 0x5041_4745_5348_5244 // "DRHSEGAP"
}
