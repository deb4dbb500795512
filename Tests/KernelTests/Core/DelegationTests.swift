import KernelABI
import Sim
import XCTest
@testable import Kernel

final class DelegationTests: XCTestCase {
    func testMemoryDelegationBuildsPageTablesWithASubsetOfRights() throws {
        let h = try KernelHarness()
        let (child, _) = h.makeChild(at: 300)
        let source = CapabilityRange(kind: .memory, base: h.windowPage(0), order: 2, permissions: Permissions.read)
        let target: UInt64 = 0xa0_0000_0000 >> 12
        XCTAssertEqual(h.call(h.rootEC, .delegate, 300, source.word, target), .returned(.success, 4, 0))
        let t = try XCTUnwrap(h.translate(child, 0xa0_0000_3000))
        XCTAssertEqual(t.physical, h.windowPhysical(3))
        XCTAssertFalse(t.writable || t.executable)
        XCTAssertNil(h.translate(child, 0xa0_0000_3000, .write))
        XCTAssertNil(h.translate(child, 0xa0_0000_4000), "only four pages")
        // Rights can only shrink: the child cannot re-delegate write it does not have.
        XCTAssertEqual(h.status(h.rootEC, .delegate, 300, CapabilityRange(kind: .object, base: 300, permissions: Permissions.all).word, 5), .success)
        let childEC = h.ec(h.rootPD, 301)
        XCTAssertEqual(h.call(childEC, .delegate, 5, CapabilityRange(kind: .memory, base: target, permissions: Permissions.memoryAll).word, target + 16),
                       .returned(.success, 1, 0))
        XCTAssertEqual(child.space.memory[target + 16]?.permissions, Permissions.read)
        h.assertInvariants()
    }

    func testRevocationIsRecursiveAcrossPDsAndFlushesTranslations() throws {
        let h = try KernelHarness()
        let (a, aEC) = h.makeChild(at: 300)
        let (b, _) = h.makeChild(at: 310, utcb: 0x90_0000_0000)
        let page = h.windowPage(1)
        XCTAssertEqual(h.status(h.rootEC, .delegate, 300, CapabilityRange(kind: .memory, base: page, permissions: Permissions.memoryAll).word, 0xa0_0000_0),
                       .success)
        XCTAssertEqual(h.status(h.rootEC, .delegate, 300, CapabilityRange(kind: .object, base: 310, permissions: Permissions.pdDelegate).word, 1), .success)
        XCTAssertEqual(h.status(h.rootEC, .delegate, 300, CapabilityRange(kind: .io, base: 0x3f8, order: 3, permissions: Permissions.ioAccess).word, 0x3f8), .success)
        // a passes the page and the ports on to b.
        XCTAssertEqual(h.status(aEC, .delegate, 1, CapabilityRange(kind: .memory, base: 0xa0_0000_0, permissions: Permissions.read).word, 0xb0_0000_0), .success)
        XCTAssertEqual(h.status(aEC, .delegate, 1, CapabilityRange(kind: .io, base: 0x3f8, order: 3, permissions: Permissions.ioAccess).word, 0x3f8), .success)
        XCTAssertNotNil(h.translate(b, 0xb0_0000_0000))
        XCTAssertTrue(b.ioBitmap.allows(0x3f9))
        h.assertInvariants("before revoke")
        let flushes = h.system.platform.flushCount
        // Root revokes what it derived from the page and ports (keeping its own).
        XCTAssertEqual(h.call(h.rootEC, .revoke, CapabilityRange(kind: .memory, base: page, permissions: 0).word, 0), .returned(.success, 1, 0))
        XCTAssertEqual(h.status(h.rootEC, .revoke, CapabilityRange(kind: .io, base: 0x3f8, order: 3, permissions: 0).word, 0), .success)
        XCTAssertNil(h.translate(a, 0xa0_0000_0000))
        XCTAssertNil(h.translate(b, 0xb0_0000_0000))
        XCTAssertNil(a.space.memory[0xa0_0000_0])
        XCTAssertFalse(a.ioBitmap.allows(0x3f8) || b.ioBitmap.allows(0x3ff))
        XCTAssertGreaterThanOrEqual(h.system.platform.flushCount, flushes + 2)
        XCTAssertNotNil(h.translate(h.rootPD, page << 12), "root keeps its own")
        h.assertInvariants("after revoke")
    }

    func testRevokingAnOriginalDestroysTheObjectAndRefundsQuota() throws {
        let h = try KernelHarness()
        let used = h.rootPD.quotaUsed
        let frames = h.kernel.frames.allocatedCount
        let (child, ec) = h.makeChild(at: 300)
        XCTAssertEqual(h.status(h.rootEC, .delegate, 300, CapabilityRange(kind: .object, base: 300, permissions: Permissions.all).word, 9), .success)
        XCTAssertEqual(h.status(ec, .createSM, 10, 0), .success)
        XCTAssertEqual(h.status(h.rootEC, .revoke, CapabilityRange(kind: .object, base: 300, order: 1, permissions: 0).word, RevokeFlags.includeSelf), .success)
        XCTAssertFalse(child.isAlive || ec.isAlive)
        XCTAssertNil(h.rootPD.space.objects[300])
        XCTAssertEqual(h.rootPD.quotaUsed, used)
        XCTAssertEqual(h.kernel.frames.allocatedCount, frames, "PML4, tables and UTCB back in the pool")
        h.assertInvariants()
    }

    func testDelegateAndRevokeErrors() throws {
        let h = try KernelHarness()
        _ = h.makeChild(at: 300)
        let root = h.rootEC
        let mem = CapabilityRange(kind: .memory, base: h.windowPage(0), permissions: Permissions.read)
        XCTAssertEqual(h.status(root, .delegate, 999, mem.word, 0xa0_0000_0), .badSelector)
        XCTAssertEqual(h.status(root, .delegate, RootSelectors.ownEC, mem.word, 0xa0_0000_0), .wrongType)
        XCTAssertEqual(h.status(root, .delegate, 300, CapabilityRange.null.word, 0), .badRange)
        XCTAssertEqual(h.status(root, .delegate, 300, CapabilityRange(kind: .memory, base: h.windowPage(1), order: 1, permissions: 1).word, 0xa0_0000_0), .badRange, "misaligned")
        XCTAssertEqual(h.status(root, .delegate, 300, CapabilityRange(kind: .memory, base: h.windowPage(0), permissions: 0).word, 0xa0_0000_0), .badRange, "no permissions")
        XCTAssertEqual(h.status(root, .delegate, 300, mem.word, 1), .badRange, "kernel half")
        XCTAssertEqual(h.status(root, .delegate, 300, CapabilityRange(kind: .io, base: 0x60, permissions: 1).word, 0x61), .badRange, "ports keep their numbers")
        XCTAssertEqual(h.status(root, .delegate, 300, CapabilityRange(kind: .object, base: 0, permissions: 1).word, CapabilitySpace.selectorLimit), .badRange)
        XCTAssertEqual(h.status(root, .delegate, 300, mem.word, 0x90_0000_0), .badSelector, "the child's UTCB is there")
        XCTAssertEqual(h.status(root, .delegate, 300, mem.word, 0xa0_0000_0), .success)
        XCTAssertEqual(h.status(root, .delegate, 300, mem.word, 0xa0_0000_0), .badSelector, "occupied")
        XCTAssertEqual(h.call(root, .delegate, 300, CapabilityRange(kind: .object, base: 1024, order: 4, permissions: 1).word, 0), .returned(.success, 0, 0), "empty source: nothing")
        // The child's capability to root's PD lacks pdDelegate: delegating with it fails.
        XCTAssertEqual(h.status(root, .delegate, 300, CapabilityRange(kind: .object, base: RootSelectors.ownPD, permissions: Permissions.pdCreate).word, 3), .success)
        XCTAssertEqual(h.status(h.ec(h.rootPD, 301), .delegate, 3, CapabilityRange(kind: .memory, base: 0xa0_0000_0, permissions: 1).word, 0xa0_0000_1), .insufficientRights)
        XCTAssertEqual(h.status(root, .revoke, CapabilityRange.null.word, 0), .badRange)
        XCTAssertEqual(h.status(root, .revoke, CapabilityRange(kind: .object, base: 1, order: 1, permissions: 0).word, 0), .badRange, "misaligned")
        XCTAssertEqual(h.status(root, .revoke, CapabilityRange(kind: .object, base: 0, permissions: 0).word, 2), .badRange, "unknown flag")
        XCTAssertEqual(h.status(root, .revoke, CapabilityRange(kind: .memory, base: 0, permissions: 0).word, 0), .badRange, "kernel half")
        h.assertInvariants()
    }

    func testLookup() throws {
        let h = try KernelHarness()
        let root = h.rootEC
        let pt = CapabilityRange(kind: .object, base: RootSelectors.ownPD, permissions: 0)
        XCTAssertEqual(h.call(root, .lookup, pt.word),
                       .returned(.success, CapabilityRange(kind: .object, base: 1, permissions: Permissions.all).word, 1))
        XCTAssertEqual(h.call(root, .lookup, CapabilityRange(kind: .object, base: 9999, permissions: 0).word), .returned(.success, 0, 0))
        // Lookup reports the range that covers the key: all ports are one range of order 16.
        XCTAssertEqual(h.call(root, .lookup, CapabilityRange(kind: .io, base: 0x3f8, permissions: 0).word),
                       .returned(.success, CapabilityRange(kind: .io, base: 0, order: 16, permissions: 1).word, 0))
        let page = h.windowPage(2)
        let window = try XCTUnwrap(h.rootPD.space.covering(.memory, page))
        XCTAssertGreaterThan(window.order, 0)
        XCTAssertEqual(h.call(root, .lookup, CapabilityRange(kind: .memory, base: page, permissions: 0).word),
                       .returned(.success, CapabilityRange(kind: .memory, base: window.key, order: window.order, permissions: 7).word,
                                 window.resource >> 12))
        // A delegated part is its own range in the receiver, with its own physical base.
        let (child, _) = h.makeChild(at: 300)
        let part = CapabilityRange(kind: .memory, base: window.key + 2, order: 1, permissions: Permissions.read)
        XCTAssertEqual(h.call(root, .delegate, 300, part.word, 0xa0_0000_0), .returned(.success, 2, 0))
        let held = try XCTUnwrap(child.space.covering(.memory, 0xa0_0000_1))
        XCTAssertEqual(held.key, 0xa0_0000_0)
        XCTAssertEqual(held.order, 1)
        XCTAssertEqual(held.resource, window.resource + 0x2000)
        XCTAssertEqual(h.status(root, .lookup, CapabilityRange.null.word), .badRange)
        XCTAssertEqual(h.status(root, .lookup, CapabilityRange(kind: .memory, base: 5, permissions: 0).word), .badRange)
    }
}
