import KernelABI
import PCIBus
import Sim
import UserRuntime
import XCTest

/// The root task binds each manifest-assigned PCI device to its component's PD at the IOMMU (SimIOMMU) when it
/// starts it, and unbinds it at teardown before the PD's pages are reused; without an IOMMU it says once that DMA
/// is not confined and boots as before.
final class DeviceBindingBootTests: XCTestCase {
    static let blk = PCIAddress(bus: 0, device: 3, function: 0)
    static let requester = UInt64(blk.routingID) // 0x18

    func physical32(_ machine: SimMachine, _ address: UInt64) throws -> UInt32 {
        try (0..<4).reduce(UInt32(0)) { $0 | UInt32(try machine.memory.read8(address + UInt64($1))) << (8 * UInt32($1)) }
    }

    func testBlockIOWorksWithTheDriversDeviceBoundAndItsDMAReachesOnlyTheDriversMemory() throws {
        let (system, device) = try VirtioBlockBootTests.boot()
        system.machine.installIOMMU()
        let stop = system.run(maxSteps: 6_000_000) { $0.serialText.contains("blockcheck: done") }
        XCTAssertEqual(stop, .condition, system.consoleText + system.serialText)
        XCTAssertTrue(system.serialText.contains("blockcheck: boot 1 pattern written, flushed and read back: match\n"),
                      system.serialText)
        let console = system.consoleText
        XCTAssertTrue(console.contains("root: virtio-blk: PCI device 00:03.0 bound to the IOMMU (DMA reaches its memory only)"),
                      console)
        XCTAssertFalse(console.contains("no IOMMU"), console)
        let iommu = try XCTUnwrap(system.machine.iommu)
        XCTAssertNotNil(iommu.contexts[Self.requester] ?? nil, "00:03.0 has a context entry: the driver's DMA table")

        // Through that table the device sees the driver's queue (its heap's first page) at the driver's own
        // address, the same bytes the legacy device reaches physically.
        let queue = UInt64(device.queuePage) << 12
        XCTAssertNotEqual(queue, 0)
        let seen = try XCTUnwrap(system.machine.deviceRead(address: ComponentLayout.heapBase, requester: Self.requester))
        XCTAssertEqual(seen, try physical32(system.machine, queue))
        XCTAssertTrue(iommu.faults.isEmpty, "\(iommu.faults)")
        // Memory the driver does not hold (the root's window at that physical page) is blocked and recorded.
        XCTAssertNil(system.machine.deviceRead(address: queue, requester: Self.requester))
        XCTAssertEqual(iommu.faults.last?.requester, Self.requester)
        XCTAssertEqual(iommu.faults.last?.address, queue)
        // A device nobody was assigned reaches nothing.
        XCTAssertNil(system.machine.deviceRead(address: ComponentLayout.heapBase, requester: 0x20))
        XCTAssertEqual(iommu.faults.last?.reason, .contextNotPresent)
        XCTAssertFalse(console.contains("faulted"), console)
    }

    func testAFaultingDriversDeviceIsUnboundBeforeItsPagesAreReused() throws {
        let findings = PCIBootTests.Findings()
        findings.faultWhenDone = true
        let (system, _, _) = try PCIBootTests.bootWithPorts(findings)
        system.machine.installIOMMU()
        let stop = system.run(maxSteps: 2_000_000) { $0.consoleText.contains("root: blk stopped") }
        XCTAssertEqual(stop, .condition, system.consoleText)
        let console = system.consoleText
        let bound = try XCTUnwrap(console.range(of: "root: blk: PCI device 00:03.0 bound to the IOMMU"))
        let faulted = try XCTUnwrap(console.range(of: "root: blk faulted"))
        let unbound = try XCTUnwrap(console.range(of: "root: blk: PCI device 00:03.0 unbound from the IOMMU, its DMA blocked"))
        let mastering = try XCTUnwrap(console.range(of: "root: blk: bus mastering of PCI device 00:03.0 off"))
        XCTAssertLessThan(bound.lowerBound, faulted.lowerBound)
        XCTAssertLessThan(faulted.lowerBound, unbound.lowerBound)
        XCTAssertLessThan(unbound.lowerBound, mastering.lowerBound, "unbound before the PD and its pages go")
        let iommu = try XCTUnwrap(system.machine.iommu)
        XCTAssertNil(iommu.contexts[Self.requester] ?? nil, "the context entry is gone")
        XCTAssertNil(system.machine.deviceRead(address: ComponentLayout.heapBase, requester: Self.requester))
        XCTAssertEqual(iommu.faults.last?.reason, .contextNotPresent)
        // nic's device is missing: it never started, so nothing of it was bound.
        XCTAssertFalse(console.contains("root: nic: PCI device"), console)
    }

    func testWithoutAnIOMMUTheRootSaysOnceThatDMAIsNotConfinedAndTheDriverRuns() throws {
        let findings = PCIBootTests.Findings()
        let (system, _, _) = try PCIBootTests.bootWithPorts(findings)
        let stop = system.run(maxSteps: 2_000_000) { $0.consoleText.contains("root: all components started") && findings.done }
        XCTAssertEqual(stop, .condition, system.consoleText)
        let console = system.consoleText
        XCTAssertEqual(console.components(separatedBy: "root: no IOMMU: DMA of PCI devices is not confined").count, 2, console)
        XCTAssertFalse(console.contains("bound to the IOMMU"), console)
        XCTAssertTrue(console.contains("root: started blk"), console)
        XCTAssertNil(system.machine.iommu)
    }
}
