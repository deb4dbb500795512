/// Counts of what the simulated hardware did, for benchmarks: plain counters, never reset by the simulator (take
/// differences). They do not change what the machine does.
public final class SimCounters {
    /// 8-byte words read from / written to RAM, by anyone (kernel, page walks, user code through the MMU, loaders).
    /// A byte access counts as the word it touches (a byte write reads and writes that word).
    public internal(set) var wordReads: UInt64 = 0
    public internal(set) var wordWrites: UInt64 = 0
    /// Whole pages zeroed or copied (`zeroPage`, `copyPage`).
    public internal(set) var pagesZeroed: UInt64 = 0
    public internal(set) var pagesCopied: UInt64 = 0
    /// Virtual-to-physical translations by the MMU (each a full 4-level walk: there is no TLB).
    public internal(set) var pageTableWalks: UInt64 = 0

    public init() {}

    /// All RAM accesses: words plus whole pages.
    public var physicalAccesses: UInt64 { wordReads + wordWrites + pagesZeroed + pagesCopied }
}
