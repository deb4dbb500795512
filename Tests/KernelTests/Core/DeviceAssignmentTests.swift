import KernelABI
import Sim
import XCTest
@testable import Kernel

/// DMA remapping (DeviceAssignment.swift) on the simulator's IOMMU: a device bound to a PD reaches exactly the
/// memory the PD holds, at the PD's own addresses, with its rights; a revoke is flushed before it returns; anything
/// else is blocked and recorded as a fault naming the device, address and reason.
final class DeviceAssignmentTests: XCTestCase {
    static let device: UInt64 = 0x0010   // 00:02.0
    static let stranger: UInt64 = 0x0018 // 00:03.0
    static let dmaBase: UInt64 = 0xa0_0000_0000

    private func memory(_ page: UInt64, order: UInt64 = 0, _ rights: UInt64 = Permissions.read | Permissions.write) -> UInt64 {
        CapabilityRange(kind: .memory, base: page, order: order, permissions: rights).word
    }

    private func bound() throws -> (KernelHarness, ProtectionDomain) {
        let h = try KernelHarness()
        h.machine.installIOMMU()
        let (child, _) = h.makeChild(at: 310)
        XCTAssertEqual(h.status(h.rootEC, .delegate, 310, memory(h.windowPage(0)), Self.dmaBase >> 12), .success)
        XCTAssertEqual(h.status(h.rootEC, .assignDev, 310, Self.device), .success)
        return (h, child)
    }

    func testWithoutAnIOMMUNoDeviceCanBeBoundAndOnlyTheRootMayBind() throws {
        let h = try KernelHarness()
        let (_, childEC) = h.makeChild(at: 310)
        XCTAssertEqual(h.status(h.rootEC, .assignDev, 310, Self.device), .badState, "no IOMMU: DMA is not confined")
        h.machine.installIOMMU()
        XCTAssertEqual(h.status(childEC, .assignDev, 1, Self.device), .insufficientRights, "root only")
        XCTAssertEqual(h.status(h.rootEC, .assignDev, 999, Self.device), .badSelector)
        XCTAssertEqual(h.status(h.rootEC, .assignDev, 310, 1 << 16), .badRange, "a requester ID is 16 bits")
        XCTAssertEqual(h.status(h.rootEC, .assignDev, 310, Self.device, 2), .badRange, "unknown flag")
        XCTAssertEqual(h.status(h.rootEC, .assignDev, 310, Self.device, AssignFlags.release), .badState, "not bound")
        XCTAssertEqual(h.kernel.invariantViolations(), [])
    }

    func testABoundDeviceReachesExactlyThePDsMemoryWithItsRights() throws {
        let (h, child) = try bound()
        let iommu = try XCTUnwrap(h.machine.iommu)
        XCTAssertNotNil(child.dmaRoot)
        h.machine.deviceWrite(address: Self.dmaBase + 8, value: 0x1234_5678, requester: Self.device)
        XCTAssertEqual(try h.machine.memory.read64(h.windowPhysical(0) + 8), 0x1234_5678, "landed in the PD's page")
        XCTAssertEqual(h.machine.deviceRead(address: Self.dmaBase + 8, requester: Self.device), 0x1234_5678)
        XCTAssertTrue(iommu.faults.isEmpty)

        // Memory the PD does not hold, and a device nobody bound.
        h.machine.deviceWrite(address: Self.dmaBase + 0x1000, value: 1, requester: Self.device)
        XCTAssertNil(h.machine.deviceRead(address: h.windowPhysical(1), requester: Self.device), "no identity access")
        h.machine.deviceWrite(address: Self.dmaBase, value: 1, requester: Self.stranger)
        XCTAssertEqual(iommu.faults, [
            .init(requester: Self.device, address: Self.dmaBase + 0x1000, write: true, reason: .writeNotPermitted),
            .init(requester: Self.device, address: h.windowPhysical(1), write: false, reason: .readNotPermitted),
            .init(requester: Self.stranger, address: Self.dmaBase, write: true, reason: .contextNotPresent),
        ])
        XCTAssertEqual(iommu.faults[0].description, "DMA fault: device 00:02.0 write at 0xa000001000: reason 0x5, write not permitted")
        XCTAssertTrue(h.machine.trace.lines.contains { $0.contains("device 00:03.0 write at 0xa000000000: reason 0x2") })

        // A read-only page: read, never written.
        let readOnly = Self.dmaBase + 0x2000
        XCTAssertEqual(h.status(h.rootEC, .delegate, 310, memory(h.windowPage(2), Permissions.read), readOnly >> 12), .success)
        XCTAssertNotNil(h.machine.deviceRead(address: readOnly, requester: Self.device))
        h.machine.deviceWrite(address: readOnly, value: 7, requester: Self.device)
        XCTAssertEqual(iommu.faults.last?.reason, .writeNotPermitted)
        XCTAssertEqual(try h.machine.memory.read64(h.windowPhysical(2)) & 0xff, 0)
        XCTAssertEqual(h.kernel.invariantViolations(), [])
    }

    /// The IOTLB caches a translation; a revoke must flush it before returning or the device still reaches the page.
    func testARevokedPageIsUnreachableWhenTheRevokeReturns() throws {
        let (h, _) = try bound()
        let iommu = try XCTUnwrap(h.machine.iommu)
        h.machine.deviceWrite(address: Self.dmaBase, value: 1, requester: Self.device) // cached now
        let flushes = iommu.flushes
        XCTAssertEqual(h.call(h.rootEC, .revoke, memory(h.windowPage(0), 0), 0), .returned(.success, 1, 0))
        XCTAssertGreaterThan(iommu.flushes, flushes)
        h.machine.deviceWrite(address: Self.dmaBase, value: 2, requester: Self.device)
        XCTAssertEqual(iommu.faults.last, .init(requester: Self.device, address: Self.dmaBase, write: true, reason: .writeNotPermitted))
        XCTAssertEqual(try h.machine.memory.read64(h.windowPhysical(0)) & 0xff, 1)
        XCTAssertEqual(h.kernel.invariantViolations(), [])
    }

    /// A 2 MiB range delegated after the binding is mirrored with a large leaf; revoking one page in its middle
    /// splits it (from the reservation) and only that page goes.
    func testLargeRangesAreMirroredAndSplitOnPartialRevoke() throws {
        let (h, child) = try bound()
        let iommu = try XCTUnwrap(h.machine.iommu)
        let block = try XCTUnwrap(h.windowBlock(order: 9))
        let base: UInt64 = 0xc0_0000_0000
        XCTAssertEqual(h.status(h.rootEC, .delegate, 310, memory(block, order: 9), base >> 12), .success)
        XCTAssertEqual(child.dmaReservedFrames, 1, "a 2 MiB leaf reserves its split")
        XCTAssertEqual(h.kernel.invariantViolations(), [])
        let physical = block * AddressLayout.pageSize - AddressLayout.physicalWindow
        h.machine.deviceWrite(address: base + 0x10_0000, value: 5, requester: Self.device)
        XCTAssertEqual(try h.machine.memory.read64(physical + 0x10_0000) & 0xff, 5)
        XCTAssertEqual(h.call(h.rootEC, .revoke, memory(block + 0x100, 0), 0), .returned(.success, 1, 0))
        XCTAssertEqual(child.dmaReservedFrames, 0)
        h.machine.deviceWrite(address: base + 0x10_0000, value: 6, requester: Self.device)
        XCTAssertEqual(iommu.faults.last?.address, base + 0x10_0000)
        h.machine.deviceWrite(address: base + 0x10_1000, value: 7, requester: Self.device)
        XCTAssertEqual(try h.machine.memory.read64(physical + 0x10_1000) & 0xff, 7, "the neighbour stays")
        XCTAssertEqual(h.kernel.invariantViolations(), [])
    }

    /// The checker compares the DMA table with the PD's memory capabilities and the bindings with live PDs.
    func testTheCheckerNoticesADMATableThatDiffersFromTheCapabilities() throws {
        let (h, child) = try bound()
        let root = try XCTUnwrap(child.dmaRoot)
        let walker = PageTableWalker<SimPlatform, VTdEntry>(platform: h.kernel.platform)
        let leaf = try XCTUnwrap(walker.userMappings(root: root, slots: 0..<512).leaves.first)
        XCTAssertTrue(walker.map(root: root, virtualPage: leaf.virtualPage + 1, pages: 1, physical: h.windowPhysical(5),
                                 permissions: Permissions.read, largestLevel: 0, table: { nil }, reserve: { _ in false }))
        XCTAssertTrue(h.kernel.invariantViolations().contains { $0.contains("DMA table maps page") && $0.contains("without holding it") },
                      "\(h.kernel.invariantViolations())")
        _ = walker.unmap(root: root, virtualPage: leaf.virtualPage + 1, pages: 1, demotionFrame: { 0 }, release: { _ in })
        XCTAssertEqual(h.kernel.invariantViolations(), [])
        child.dmaReservedFrames = 3
        XCTAssertTrue(h.kernel.invariantViolations().contains { $0.contains("DMA frames") })
        child.dmaReservedFrames = 0
        h.kernel.deviceBindings[0x99] = h.pd(h.rootPD, 310).creator
        XCTAssertTrue(h.kernel.invariantViolations().contains { $0.contains("device 0x99 is bound") })
        h.kernel.deviceBindings[0x99] = nil
        XCTAssertEqual(h.kernel.invariantViolations(), [])
    }

    /// VT-d tags cached translations with a domain ID per table; when the IOMMU has none left the binding is
    /// refused, while another device on a table already tagged still binds.
    func testAnIOMMUWithoutRoomForAnotherTableRefusesTheBinding() throws {
        let (h, _) = try bound()
        h.machine.iommu?.tableLimit = 1
        _ = h.makeChild(at: 320, utcb: 0x90_0000_0000)
        XCTAssertEqual(h.status(h.rootEC, .assignDev, 320, Self.stranger), .outOfMemory, "no domain ID left")
        XCTAssertNil(h.kernel.deviceBindings[Self.stranger])
        XCTAssertNil(h.machine.iommu?.contexts[Self.stranger] ?? nil)
        XCTAssertEqual(h.status(h.rootEC, .assignDev, 310, Self.stranger), .success, "the same table needs no new ID")
        XCTAssertEqual(h.kernel.invariantViolations(), [])
    }

    func testReleaseAndDeathUnbindAndAQuotaThatCannotPayChangesNothing() throws {
        let (h, child) = try bound()
        let iommu = try XCTUnwrap(h.machine.iommu)
        XCTAssertEqual(h.status(h.rootEC, .assignDev, 310, Self.device), .badState, "bound already")
        let (_, _) = h.makeChild(at: 320, utcb: 0x90_0000_0000)
        XCTAssertEqual(h.status(h.rootEC, .assignDev, 320, Self.device, AssignFlags.release), .badState, "not its device")
        XCTAssertEqual(h.status(h.rootEC, .assignDev, 310, Self.device, AssignFlags.release), .success)
        XCTAssertNil(iommu.contexts[Self.device] ?? nil)
        h.machine.deviceWrite(address: Self.dmaBase, value: 1, requester: Self.device)
        XCTAssertEqual(iommu.faults.last?.reason, .contextNotPresent)
        XCTAssertEqual(h.status(h.rootEC, .assignDev, 310, Self.device), .success, "bound again")
        XCTAssertEqual(h.status(h.rootEC, .assignDev, 310, Self.stranger), .success, "a second device, the same table")
        let used = child.quotaUsed
        XCTAssertGreaterThan(used, 0)

        // The PD dies: its devices are unbound, its DMA table frames go back.
        XCTAssertEqual(h.call(h.rootEC, .revoke, CapabilityRange(kind: .object, base: 310, permissions: 0).word, RevokeFlags.includeSelf),
                       .returned(.success, 1, 0))
        XCTAssertFalse(child.isAlive)
        XCTAssertTrue(h.kernel.deviceBindings.isEmpty)
        XCTAssertNil(child.dmaRoot)
        XCTAssertEqual(child.dmaTableFrames, [])
        XCTAssertEqual(h.kernel.invariantViolations(), [])

        // A PD whose quota cannot pay for its DMA table: refused, nothing left behind.
        XCTAssertEqual(h.status(h.rootEC, .createPD, 330, 1, Permissions.all), .success)
        let poor = h.pd(h.rootPD, 330)
        XCTAssertEqual(h.status(h.rootEC, .assignDev, 330, Self.device), .outOfMemory)
        XCTAssertNil(poor.dmaRoot)
        XCTAssertTrue(h.kernel.deviceBindings.isEmpty)
        XCTAssertEqual(h.kernel.invariantViolations(), [])
    }
}
