import BootFormat
import KernelABI

/// The kernel's pool of physical page frames (page tables, UTCBs). Frames come from the ranges given at boot,
/// first by bumping through them, then from the frames given back.
///
/// Invariants: a frame is either handed out or free, never both; `allocatedCount` counts the handed-out frames.
struct FrameAllocator {
    private var ranges: [PhysicalRange]
    private var rangeIndex = 0
    private var nextInRange: UInt64
    private var freed: [UInt64] = []
    private(set) var allocatedCount: UInt64 = 0
    let totalCount: UInt64

    init(ranges: [PhysicalRange]) {
        self.ranges = ranges
        nextInRange = ranges.first?.base ?? 0
        totalCount = ranges.reduce(0) { $0 + $1.size / AddressLayout.pageSize }
    }

    var freeCount: UInt64 { totalCount - allocatedCount }

    /// A frame (not zeroed), or nil when the pool is empty.
    mutating func allocate() -> UInt64? {
        if let frame = freed.popLast() {
            allocatedCount += 1
            return frame
        }
        while rangeIndex < ranges.count {
            if nextInRange < ranges[rangeIndex].end {
                let frame = nextInRange
                nextInRange += AddressLayout.pageSize
                allocatedCount += 1
                return frame
            }
            rangeIndex += 1
            if rangeIndex < ranges.count { nextInRange = ranges[rangeIndex].base }
        }
        return nil
    }

    mutating func free(_ frame: UInt64) {
        precondition(allocatedCount > 0, "kernel bug: freeing a frame into a full pool")
        allocatedCount -= 1
        freed.append(frame)
    }

    func contains(_ frame: UInt64) -> Bool { ranges.contains { frame >= $0.base && frame < $0.end } }
}
