import XCTest
@testable import Kernel

/// Guest tags (ASIDs) are handed out on first entry, recycled from the oldest holder when they run out (with a
/// flush of everything, as QEMU's SVM has no flush by ASID), and a tag new to a VM is always fresh to it.
final class GuestTagAllocatorTests: XCTestCase {
    func vm(_ id: UInt64) -> ProtectionDomain {
        ProtectionDomain(id: id, pageTableRoot: id << 12, quotaLimit: 1, creator: nil, rights: 0, isVM: true)
    }

    func testTagsAreRecycledFromTheOldestHolderWithAFullFlush() {
        var tags = GuestTagAllocator(count: 3)
        let vms = (1...4).map { vm(UInt64($0)) }
        var seen: [UInt64] = []
        for v in vms.prefix(3) {
            let (tag, fresh, flushAll) = tags.assign(v)
            XCTAssertTrue(fresh)
            XCTAssertFalse(flushAll)
            seen.append(tag)
        }
        XCTAssertEqual(Set(seen), [1, 2, 3])
        XCTAssertEqual(tags.assign(vms[1]).fresh, false, "a VM keeps its tag")
        // The fourth VM takes the first one's tag; everything cached must go.
        let (tag, fresh, flushAll) = tags.assign(vms[3])
        XCTAssertEqual(tag, seen[0])
        XCTAssertTrue(fresh && flushAll)
        XCTAssertEqual(vms[0].guestTag, 0, "the oldest holder lost its tag")
        XCTAssertEqual(tags.recycled, 1)
        // Its next entry gets one again (from the next-oldest).
        XCTAssertEqual(tags.assign(vms[0]).flushAll, true)
        XCTAssertEqual(vms[1].guestTag, 0)
        // A released tag is free again, and fresh to whoever gets it.
        tags.release(vms[2])
        XCTAssertEqual(vms[2].guestTag, 0)
        XCTAssertEqual(tags.freeCount, 1)
        let again = tags.assign(vms[1])
        XCTAssertTrue(again.fresh && !again.flushAll)
        XCTAssertEqual(Set(tags.heldTags.map { $0.0 }).count, 3, "no tag is held twice")
    }
}
