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
        XCTAssertTrue(h.kernel.mapPages(in: child, virtualPage: 0xa0_0000_0, pages: 1, physical: h.windowPhysical(0), permissions: 1))
        XCTAssertTrue(h.kernel.invariantViolations().contains { $0.contains("without holding it") })
        h.kernel.unmapPages(in: child, virtualPage: 0xa0_0000_0, pages: 1)
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
        child.space.insert(orphan)
        XCTAssertTrue(h.kernel.invariantViolations().contains { $0.contains("derives from a capability that is gone") })
        child.space.remove(orphan)
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
        let ports = try XCTUnwrap(root.space.covering(.io, 0x60))
        XCTAssertEqual(ports.count, 65536, "the root's ports are one range")
        ports.children.append(stranger)
        XCTAssertEqual(h.kernel.invariantViolations(incremental: true), [], "nothing noted: the root is skipped")
        root.noteChange(.io, key: ports.key)
        XCTAssertTrue(h.kernel.invariantViolations(incremental: true).contains { $0.contains("io capability 0x0 has a child that does not point back") })
        ports.children = []

        let window = try XCTUnwrap(root.space.covering(.memory, h.windowPage(3)))
        window.children.append(stranger)
        root.noteChange(.memory, key: window.key)
        XCTAssertTrue(h.kernel.invariantViolations(incremental: true).contains { $0.contains("memory capability \(hex(window.key)) has a child") })
        window.children = []
        XCTAssertEqual(h.kernel.invariantViolations(), [])
    }

    /// Ranges: overlapping or misaligned capabilities, large leaves that map something else, and reservations that
    /// do not add up are each reported.
    func testCheckerNoticesBrokenRanges() throws {
        let h = try KernelHarness(memorySize: 64 << 20)
        let (child, _) = h.makeChild(at: 300)
        let base: UInt64 = 0xa0_0000_0 // 2 MiB aligned virtual page number
        let source = try XCTUnwrap(h.rootPD.space.covering(.memory, h.windowPage(1024)))
        XCTAssertGreaterThanOrEqual(source.order, 10, "a 64 MiB machine's window has ranges of at least 4 MiB")
        XCTAssertEqual(h.status(h.rootEC, .delegate, 300, CapabilityRange(kind: .memory, base: source.key, order: 9, permissions: 3).word, base), .success)
        XCTAssertEqual(h.kernel.invariantViolations(), [])
        XCTAssertEqual(child.reservedFrames, 1, "one 2 MiB leaf keeps one frame for its split")
        let held = try XCTUnwrap(child.space.covering(.memory, base + 5))
        // A second capability inside the first.
        let inner = Capability(kind: .memory, holder: child, key: base + 8, order: 3, resource: held.resource + 0x8000,
                               object: nil, permissions: 1, parent: nil)
        child.space.insert(inner)
        XCTAssertTrue(h.kernel.invariantViolations().contains { $0.contains("overlaps capability \(hex(base))") })
        child.space.remove(inner)
        // A misaligned one (nothing maps it either).
        let crooked = Capability(kind: .memory, holder: child, key: base + 0x202, order: 2, resource: held.resource,
                                 object: nil, permissions: 1, parent: nil)
        child.space.insert(crooked)
        XCTAssertTrue(h.kernel.invariantViolations().contains { $0.contains("is not aligned") })
        child.space.remove(crooked)
        // The reservation no longer matching the large leaves.
        child.reservedFrames += 1
        XCTAssertTrue(h.kernel.invariantViolations().contains { $0.contains("its large leaves need 1") })
        child.reservedFrames -= 1
        // A large leaf that maps other memory than the capability says.
        let leafSlot = try XCTUnwrap(largeLeafSlot(h, child, virtualPage: base))
        let entry = h.kernel.platform.readPhysical(leafSlot)
        h.kernel.platform.writePhysical(leafSlot, entry + (2 << 20))
        XCTAssertTrue(h.kernel.invariantViolations().contains { $0.contains("capability says") })
        h.kernel.platform.writePhysical(leafSlot, entry)
        XCTAssertEqual(h.kernel.invariantViolations(), [])
    }

    /// The page-directory slot of the 2 MiB leaf mapping `virtualPage` in `pd`, if there is one.
    private func largeLeafSlot(_ h: KernelHarness, _ pd: ProtectionDomain, virtualPage: UInt64) -> UInt64? {
        var table = pd.pageTableRoot
        for level in stride(from: 3, through: 1, by: -1) {
            let slot = table + ((virtualPage >> (9 * UInt64(level))) & 0x1ff) * 8
            let entry = h.kernel.platform.readPhysical(slot)
            guard entry & PageTableEntry.present != 0 else { return nil }
            if entry & PageTableEntry.largePage != 0 { return level == 1 ? slot : nil }
            table = entry & PageTableEntry.addressMask
        }
        return nil
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
