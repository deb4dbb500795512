import KernelABI
import Sim
import XCTest
@testable import Kernel

final class InvariantCheckerTests: XCTestCase {
    func testCheckerNoticesBrokenInvariants() throws {
        let h = try KernelHarness()
        XCTAssertEqual(h.kernel.invariantViolations(), [])
        let (child, _) = h.makeChild(at: 300)
        // A mapping nobody holds.
        XCTAssertTrue(h.kernel.mapPage(in: child, virtualPage: 0xa0_0000_0, physical: h.windowPhysical(0), flags: PageTableEntry.leafFlags(1)))
        XCTAssertTrue(h.kernel.invariantViolations().contains { $0.contains("without holding it") })
        h.kernel.unmapPage(in: child, virtualPage: 0xa0_0000_0)
        XCTAssertEqual(h.kernel.invariantViolations(), [])
        // A port allowed without a capability.
        child.ioBitmap.set(0x60, allowed: true)
        XCTAssertTrue(h.kernel.invariantViolations().contains { $0.contains("I/O bitmap") }, "full check")
        child.noteChange(.io, key: 0x60)
        XCTAssertTrue(h.kernel.invariantViolations(incremental: true).contains { $0.contains("I/O bitmap") },
                      "incremental check of a port noted as changed")
        child.ioBitmap.set(0x60, allowed: false)
        // A capability whose parent is gone.
        let orphan = Capability(kind: .object, holder: child, key: 7, resource: 0, object: .pd(child), permissions: 1,
                                parent: Capability(kind: .object, holder: child, key: 8, resource: 0, object: .pd(child), permissions: 1, parent: nil))
        child.space.objects[7] = orphan
        XCTAssertTrue(h.kernel.invariantViolations().contains { $0.contains("derives from a capability that is gone") })
        child.space.objects[7] = nil
        // Quota over the limit.
        child.quotaUsed = child.quotaLimit + 1
        XCTAssertTrue(h.kernel.invariantViolations().contains { $0.contains("quota") })
        child.quotaUsed = child.quotaLimit
        // A frame that leaked from the pool.
        _ = h.kernel.frames.allocate()
        XCTAssertTrue(h.kernel.invariantViolations().contains { $0.contains("pool") }, "frames no longer add up")
    }
}
