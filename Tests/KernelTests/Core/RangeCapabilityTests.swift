import KernelABI
import Sim
import XCTest
@testable import Kernel

/// Memory and I/O capabilities are ranges: one capability however large, mapped with the largest pages alignment
/// allows, split only where part of it is revoked, with the derivation tree exact across PDs (ABI.md, "Ranges").
final class RangeCapabilityTests: XCTestCase {
    static let gigabyteOrder: UInt64 = 18, megabyteOrder: UInt64 = 9
    /// 1 GiB-aligned virtual page numbers in the child's user space.
    static let target: UInt64 = 0x100_0000_0, second: UInt64 = 0x200_0000_0

    /// Leaves mapping `pd`'s user half, by level (0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB).
    func leafCounts(_ h: KernelHarness, _ pd: ProtectionDomain) -> [Int: Int] {
        var counts: [Int: Int] = [:]
        for leaf in h.kernel.walker.userMappings(root: pd.pageTableRoot).leaves { counts[leaf.level, default: 0] += 1 }
        return counts
    }

    func testAGigabyteIsOneCapabilityAndOneLeaf() throws {
        let h = try KernelHarness(memorySize: 4 << 30)
        let block = try XCTUnwrap(h.windowBlock(order: Self.gigabyteOrder))
        let (child, _) = h.makeChild(at: 300, quota: 2000)
        let crd = CapabilityRange(kind: .memory, base: block, order: Self.gigabyteOrder, permissions: Permissions.memoryAll)
        XCTAssertEqual(h.call(h.rootEC, .delegate, 300, crd.word, Self.target), .returned(.success, 1 << 18, 0))
        XCTAssertEqual(child.space.memory.count, 1)
        XCTAssertEqual(leafCounts(h, child), [0: 1, 2: 1], "the UTCB page and one 1 GiB leaf")
        XCTAssertEqual(child.reservedFrames, 513)
        let t = try XCTUnwrap(h.translate(child, (Self.target << 12) + 0x3ff0_1234, .write))
        XCTAssertEqual(t.physical, ((block << 12) - AddressLayout.physicalWindow) + 0x3ff0_1234)
        h.assertInvariants()
        // Without 1 GiB pages the same range takes 512 2 MiB leaves.
        h.system.platform.supportsGigabytePages = false
        XCTAssertEqual(h.call(h.rootEC, .delegate, 300, crd.word, Self.second), .returned(.success, 1 << 18, 0))
        XCTAssertEqual(leafCounts(h, child), [0: 1, 1: 512, 2: 1])
        h.assertInvariants()
    }

    /// Root -> A (2 MiB), A -> B (all of it), B -> C (16 pages from page 32). Revoking one page from what root
    /// derived removes exactly that page, in each PD that has it, and nothing else.
    func testRevokingOnePageOfASuperpageRemovesExactlyThatPageEverywhere() throws {
        let h = try KernelHarness(memorySize: 64 << 20)
        let block = try XCTUnwrap(h.windowBlock(order: Self.megabyteOrder))
        let (a, aEC) = h.makeChild(at: 300)
        let (b, bEC) = h.makeChild(at: 310)
        let (c, _) = h.makeChild(at: 320)
        let megabytes = CapabilityRange(kind: .memory, base: block, order: 9, permissions: Permissions.memoryAll)
        XCTAssertEqual(h.status(h.rootEC, .delegate, 300, megabytes.word, Self.target), .success)
        XCTAssertEqual(h.status(h.rootEC, .delegate, 300, CapabilityRange(kind: .object, base: 310, permissions: Permissions.pdDelegate).word, 1), .success)
        XCTAssertEqual(h.status(h.rootEC, .delegate, 310, CapabilityRange(kind: .object, base: 320, permissions: Permissions.pdDelegate).word, 1), .success)
        XCTAssertEqual(h.status(aEC, .delegate, 1, CapabilityRange(kind: .memory, base: Self.target, order: 9, permissions: Permissions.memoryAll).word, Self.second), .success)
        XCTAssertEqual(h.call(bEC, .delegate, 1, CapabilityRange(kind: .memory, base: Self.second + 32, order: 4, permissions: Permissions.read).word, Self.target),
                       .returned(.success, 16, 0))
        XCTAssertEqual(leafCounts(h, b)[1], 1, "B maps the range with one 2 MiB leaf")
        h.assertInvariants("after delegating")
        let framesBefore = b.tableFrames.count

        // Page 40 of the block: inside C's part.
        XCTAssertEqual(h.call(h.rootEC, .revoke, CapabilityRange(kind: .memory, base: block + 40, permissions: 0).word, 0),
                       .returned(.success, 1, 0))
        XCTAssertNil(h.translate(a, (Self.target + 40) << 12))
        XCTAssertNil(h.translate(b, (Self.second + 40) << 12))
        XCTAssertNil(h.translate(c, (Self.target + 8) << 12))
        for (pd, base) in [(a, Self.target), (b, Self.second)] {
            XCTAssertNotNil(h.translate(pd, (base + 39) << 12))
            XCTAssertNotNil(h.translate(pd, (base + 41) << 12))
            XCTAssertNotNil(h.translate(pd, (base + 511) << 12))
            XCTAssertEqual(pd.space.memory.count, 9, "2^9 pages less one page are 9 aligned pieces")
        }
        XCTAssertNotNil(h.translate(c, (Self.target + 7) << 12))
        XCTAssertEqual(c.space.memory.count, 4, "16 pages less one are 4 pieces")
        XCTAssertEqual(b.tableFrames.count, framesBefore + 1, "the 2 MiB leaf was split into a page table")
        XCTAssertEqual(b.reservedFrames, 0, "out of its reservation")
        XCTAssertNotNil(h.translate(h.rootPD, (block + 40) << 12), "root keeps its own")
        h.assertInvariants("after the first revoke")

        // Page 100: A and B lose it, C (pages 32..47) keeps all it has.
        XCTAssertEqual(h.status(h.rootEC, .revoke, CapabilityRange(kind: .memory, base: block + 100, permissions: 0).word, 0), .success)
        XCTAssertNil(h.translate(b, (Self.second + 100) << 12))
        XCTAssertEqual(c.space.memory.count, 4)
        h.assertInvariants("after the second revoke")

        // Revoking the whole block takes everything derived, splits or not.
        XCTAssertEqual(h.call(h.rootEC, .revoke, megabytes.word, 0), .returned(.success, 512, 0))
        XCTAssertTrue(a.space.memory.isEmpty && b.space.memory.isEmpty && c.space.memory.isEmpty)
        XCTAssertEqual(a.reservedFrames + b.reservedFrames + c.reservedFrames, 0)
        h.assertInvariants("after revoking the block")
    }

    /// Revoking part of one's own range (include-self) splits it; the rest stays, mapped as before.
    func testRevokingPartOfOwnRangeSplitsIt() throws {
        let h = try KernelHarness(memorySize: 64 << 20)
        let block = try XCTUnwrap(h.windowBlock(order: 10))
        let before = h.rootPD.space.memory.count
        XCTAssertEqual(h.status(h.rootEC, .revoke, CapabilityRange(kind: .memory, base: block + 4, order: 2, permissions: 0).word,
                                RevokeFlags.includeSelf), .success)
        XCTAssertNil(h.translate(h.rootPD, (block + 5) << 12))
        XCTAssertNotNil(h.translate(h.rootPD, (block + 3) << 12))
        XCTAssertNotNil(h.translate(h.rootPD, (block + 8) << 12))
        XCTAssertGreaterThan(h.rootPD.space.memory.count, before)
        let piece = try XCTUnwrap(h.rootPD.space.covering(.memory, block + 8))
        XCTAssertTrue(piece.isOriginal, "pieces of an original are originals")
        h.assertInvariants()
    }

    func testPortRangesSplitOnPartialRevoke() throws {
        let h = try KernelHarness()
        let (child, childEC) = h.makeChild(at: 300)
        XCTAssertEqual(h.call(h.rootEC, .delegate, 300, CapabilityRange(kind: .io, base: 0x3f8, order: 3, permissions: 1).word, 0x3f8),
                       .returned(.success, 8, 0))
        XCTAssertEqual(child.space.io.count, 1)
        XCTAssertEqual(h.call(h.rootEC, .revoke, CapabilityRange(kind: .io, base: 0x3fb, permissions: 0).word, 0), .returned(.success, 1, 0))
        XCTAssertFalse(child.ioBitmap.allows(0x3fb))
        XCTAssertTrue(child.ioBitmap.allows(0x3f8) && child.ioBitmap.allows(0x3fa) && child.ioBitmap.allows(0x3ff))
        XCTAssertEqual(child.space.io.count, 3, "0x3f8-9, 0x3fa, 0x3fc-f")
        XCTAssertEqual(h.call(childEC, .lookup, CapabilityRange(kind: .io, base: 0x3fd, permissions: 0).word),
                       .returned(.success, CapabilityRange(kind: .io, base: 0x3fc, order: 2, permissions: 1).word, 0x3fc))
        h.assertInvariants()
    }

    func testBadRangesGetDocumentedStatusesAndChangeNothing() throws {
        let h = try KernelHarness(memorySize: 64 << 20)
        let block = try XCTUnwrap(h.windowBlock(order: Self.megabyteOrder))
        let (child, _) = h.makeChild(at: 300, quota: 16)
        let root = h.rootEC
        func delegate(_ base: UInt64, order: UInt64, to destination: UInt64) -> Status {
            h.status(root, .delegate, 300, CapabilityRange(kind: .memory, base: base, order: order, permissions: 3).word, destination)
        }
        XCTAssertEqual(delegate(block + 1, order: 1, to: Self.target), .badRange, "base not aligned to the order")
        XCTAssertEqual(delegate(block, order: 4, to: Self.target + 8), .badRange, "destination not aligned to the size")
        XCTAssertEqual(delegate(block, order: 4, to: (AddressLayout.userEnd >> 12) - 8), .badRange, "beyond user space")
        XCTAssertEqual(delegate(block, order: 4, to: 0), .badRange, "below user space")
        XCTAssertEqual(h.status(root, .delegate, 300, CapabilityRange(kind: .memory, base: block, order: 31, permissions: 3).word, Self.target),
                       .badRange, "order larger than the space")
        XCTAssertEqual(delegate(block, order: 2, to: Self.target + 4), .success)
        let held = child.space.memory.count
        XCTAssertEqual(delegate(block + 16, order: 4, to: Self.target), .badSelector, "partly over what the receiver holds")
        XCTAssertEqual(delegate(block + 16, order: 1, to: Self.target + 4), .badSelector, "inside what the receiver holds")
        XCTAssertEqual(child.space.memory.count, held)
        // 2 MiB needs one reserved frame and its tables: a quota of 16 pages pays for that, not for 1 GiB's 513.
        let quotaBefore = child.quotaUsed
        XCTAssertEqual(h.status(root, .delegate, 300, CapabilityRange(kind: .memory, base: block, order: 9, permissions: 3).word, Self.second),
                       .success)
        XCTAssertEqual(h.status(root, .revoke, CapabilityRange(kind: .memory, base: block, order: 9, permissions: 0).word, 0), .success)
        XCTAssertEqual(child.quotaUsed, quotaBefore + 2, "the reservation is back; the PDPT and directory on the way stay until the PD dies")
        let big = try KernelHarness(memorySize: 4 << 30)
        let gigabyte = try XCTUnwrap(big.windowBlock(order: Self.gigabyteOrder))
        let (small, _) = big.makeChild(at: 300, quota: 100)
        let frames = big.kernel.frames.allocatedCount, reserved = big.kernel.frames.reservedCount
        XCTAssertEqual(big.status(big.rootEC, .delegate, 300, CapabilityRange(kind: .memory, base: gigabyte, order: 18, permissions: 3).word, Self.target),
                       .outOfMemory, "the receiver's quota cannot pay the 1 GiB leaf's reservation")
        XCTAssertTrue(small.space.memory.isEmpty)
        XCTAssertEqual(small.reservedFrames, 0)
        XCTAssertEqual(big.kernel.frames.reservedCount, reserved)
        XCTAssertLessThanOrEqual(big.kernel.frames.allocatedCount, frames + 2, "at most the empty tables on the way")
        big.assertInvariants()
        h.assertInvariants()
    }

    /// A PD that dies with large leaves gives their reservations back to its creator and the pool.
    func testDeathReturnsReservations() throws {
        let h = try KernelHarness(memorySize: 4 << 30)
        let block = try XCTUnwrap(h.windowBlock(order: Self.gigabyteOrder))
        let quota = h.rootPD.quotaUsed, reserved = h.kernel.frames.reservedCount, allocated = h.kernel.frames.allocatedCount
        _ = h.makeChild(at: 300, quota: 2000)
        XCTAssertEqual(h.status(h.rootEC, .delegate, 300, CapabilityRange(kind: .memory, base: block, order: 18, permissions: 7).word, Self.target), .success)
        XCTAssertEqual(h.kernel.frames.reservedCount, reserved + 513)
        XCTAssertEqual(h.status(h.rootEC, .revoke, CapabilityRange(kind: .object, base: 300, permissions: 0).word, RevokeFlags.includeSelf), .success)
        XCTAssertEqual(h.status(h.rootEC, .revoke, CapabilityRange(kind: .object, base: 301, permissions: 0).word, RevokeFlags.includeSelf), .success)
        XCTAssertEqual(h.kernel.frames.reservedCount, reserved)
        XCTAssertEqual(h.kernel.frames.allocatedCount, allocated)
        XCTAssertEqual(h.rootPD.quotaUsed, quota)
        h.assertInvariants()
    }
}
