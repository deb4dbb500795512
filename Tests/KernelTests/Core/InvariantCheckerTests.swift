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

    /// caller, callee and current-SC links own nothing (Link.swift): a link to an EC or SC that is not live is a
    /// kernel bug the checker must report, by address, without following it.
    func testCheckerReportsLinksToObjectsThatAreNotLive() throws {
        let h = try KernelHarness()
        let root = h.kernel.rootEC!
        let outsider = ExecutionContext(id: 999, pd: h.rootPD, isGlobal: false, eventBase: 0, utcbAddress: 0,
                                        utcbFrame: 0, stackPointer: 0, entry: 0, chargedTo: nil)
        let straySC = SchedulingContext(id: 998, ec: outsider, priority: 1, budget: 1, chargedTo: nil)
        for (name, breakLink, repair) in [
            ("caller", { root.callerLink = Link(outsider) }, { root.callerLink = nil }),
            ("callee", { root.calleeLink = Link(outsider) }, { root.calleeLink = nil }),
            ("current SC", { root.currentSCLink = Link(straySC) }, { root.currentSCLink = Link(root.boundSC!) }),
        ] as [(String, () -> Void, () -> Void)] {
            breakLink()
            XCTAssertTrue(h.kernel.invariantViolations().contains { $0.contains("\(name) link names a destroyed object") },
                          name)
            repair()
            XCTAssertEqual(h.kernel.invariantViolations(), [], name)
        }
    }

    /// The incremental check looks again exactly at what was noted: a broken link in the root's I/O or memory space
    /// is found once its entry is noted (the kernel notes every entry it changes), and is skipped until then.
    func testIncrementalCheckLooksAtNotedEntries() throws {
        let h = try KernelHarness()
        let root = h.rootPD
        XCTAssertEqual(h.kernel.invariantViolations(), [])
        let stranger = Capability(kind: .io, holder: root, key: 0x61, resource: 0x61, object: nil, permissions: 1,
                                  parent: nil)
        root.space.io[0x60]!.children.append(stranger)
        XCTAssertEqual(h.kernel.invariantViolations(incremental: true), [], "nothing noted: the root is skipped")
        root.noteChange(.io, key: 0x60)
        XCTAssertTrue(h.kernel.invariantViolations(incremental: true).contains { $0.contains("io capability 0x60 has a child that does not point back") })
        root.space.io[0x60]!.children = []

        let page = h.windowPage(3)
        root.space.memory[page]!.children.append(stranger)
        root.noteChange(.memory, key: page)
        XCTAssertTrue(h.kernel.invariantViolations(incremental: true).contains { $0.contains("memory capability \(hex(page)) has a child") })
        root.space.memory[page]!.children = []
        XCTAssertEqual(h.kernel.invariantViolations(), [])
    }

    /// Past `ChangeRecord.keyLimit` noted entries the record stops listing and the next check looks at everything.
    func testChangeRecordGivesUpListingAndChecksAll() {
        var record = ChangeRecord()
        XCTAssertNil(record.ports, "before the first check: everything")
        record.note(.io, key: 1)
        XCTAssertNil(record.ports, "nothing is kept before the first check")
        record.clear()
        XCTAssertEqual(record.ports, [])
        XCTAssertFalse(record.objects || record.addressSpace)
        record.note(.io, key: 7)
        record.note(.memory, key: 9)
        record.note(.object, key: 3)
        XCTAssertEqual(record.ports, [7])
        XCTAssertEqual(record.memoryKeys, [9])
        XCTAssertTrue(record.objects)
        for port in 0..<UInt64(ChangeRecord.keyLimit) { record.note(.io, key: port) }
        XCTAssertNil(record.ports, "too many: check all ports")
        XCTAssertEqual(record.memoryKeys, [9])
    }
}
