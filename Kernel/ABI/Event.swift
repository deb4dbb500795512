/// Event numbers: an EC's faults and exits are delivered as calls to the portal at `eventBase + event`.
public enum Event {
    // 0..31 are the x86 exception vectors (13 general protection, 14 page fault, ...).
    public static let pageFault: UInt64 = 14
    public static let generalProtection: UInt64 = 13
    /// Delivered when an EC is started, so its handler can set its initial state (optional).
    public static let startup: UInt64 = 30
    /// Delivered after `ctrl_ec(recall)`.
    public static let recall: UInt64 = 31
    public static let count: UInt64 = 32
}
