import BootFormat
import KernelABI

/// The kernel's pool of physical page frames (page tables, UTCBs). Frames come from the ranges given at boot,
/// first by bumping through them, then from the frames given back.
///
/// Some free frames can be reserved: promised to a PD for splitting its large page-table leaves later
/// (PageTable.swift), so a revoke never fails for want of a frame. Unreserved allocation leaves them alone.
///
/// Invariants: a frame is either handed out or free, never both; `allocatedCount` counts the handed-out frames;
/// `reservedCount <= freeCount` and equals the sum of every PD's `reservedFrames`.
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

    private(set) var reservedCount: UInt64 = 0

    var freeCount: UInt64 { totalCount - allocatedCount }

    /// A frame (not zeroed), or nil when every free frame is reserved or the pool is empty.
    mutating func allocate() -> UInt64? {
        guard freeCount > reservedCount else { return nil }
        return take()
    }

    /// Promises `count` free frames for later (`allocateReserved`); false when not that many are unpromised.
    mutating func reserve(_ count: UInt64) -> Bool {
        guard freeCount - reservedCount >= count else { return false }
        reservedCount += count
        return true
    }

    mutating func unreserve(_ count: UInt64) {
        precondition(count <= reservedCount, "kernel bug: unreserving more frames than reserved")
        reservedCount -= count
    }

    /// One of the promised frames (not zeroed).
    mutating func allocateReserved() -> UInt64 {
        precondition(reservedCount > 0, "kernel bug: no frame reserved")
        reservedCount -= 1
        guard let frame = take() else { preconditionFailure("kernel bug: a reserved frame is missing") }
        return frame
    }

    private mutating func take() -> UInt64? {
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
