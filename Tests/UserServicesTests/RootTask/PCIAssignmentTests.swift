import ManifestFormat
import PCIBus
@testable import RootTask
import XCTest

/// The root task's matching of manifest device selectors to the bus: grants, and the failures that stop only the
/// component concerned.
final class PCIAssignmentTests: XCTestCase {
    func component(_ name: String, _ devices: [PCIDeviceSelector], ports: [PortRange] = [], irqs: [UInt64] = []) -> ComponentDescription {
        ComponentDescription(name: ManifestString(name), binary: "blk", memory: 1 << 20, priority: 10, budgetMilliseconds: 10,
                             ioPorts: ports, interrupts: irqs, pciDevices: devices)
    }

    func system(_ components: [ComponentDescription]) -> SystemDescription {
        SystemDescription(machineMemory: 1 << 30, interruptCount: 24, components: components, vms: [])
    }

    var bus: [PCIFunction] { PCIEnumeration.scan(PCIEnumerationTests.sampleBus()) }
    let blk = PCIDeviceSelector.ids(vendor: 0x1af4, device: 0x1001)

    func testGrantHoldsTheDevicesBARsAndLine() throws {
        let result = PCIAssignment.resolve(system([component("a", []), component("b", [blk])]), bus: bus)
        XCTAssertEqual(try result[0].get(), PCIGrant())
        let grant = try result[1].get()
        XCTAssertEqual(grant.functions.map { $0.address.description }, ["00:03.0"])
        XCTAssertEqual(grant.ports, [PortRange(first: 0xc040, count: 0x40)])
        XCTAssertEqual(grant.mmio, [MMIORange(base: 0xfebf_1000, size: 0x1000), MMIORange(base: 0x80_0000_0000, size: 0x4000)])
        XCTAssertEqual(grant.interrupts, [11])
    }

    func testTwoComponentsAskingForTheSameIDsGetTwoDevicesAndAThirdIsRefused() throws {
        let result = PCIAssignment.resolve(system([component("a", [blk]), component("b", [blk]), component("c", [blk])]),
                                           bus: bus.map { var f = $0; f.interruptPin = 0; return f })
        XCTAssertEqual(try result[0].get().functions.first?.address.description, "00:03.0")
        XCTAssertEqual(try result[1].get().functions.first?.address.description, "01:00.0")
        XCTAssertEqual(result[2].failureDescription,
                       "component c: PCI device 1af4:1001 is 00:03.0, already assigned to a")
    }

    func testMissingDeviceNamesItAndWhatIsThere() {
        let result = PCIAssignment.resolve(system([component("a", [.ids(vendor: 0x8086, device: 0x100e)]), component("b", [blk])]),
                                           bus: bus)
        XCTAssertEqual(result[0].failureDescription,
                       "component a: PCI device 8086:100e is not present (the bus has 00:00.0 8086:29c0, 00:03.0 1af4:1001, " +
                       "00:04.0 1b36:000c, 00:1f.0 8086:2918, 00:1f.2 8086:2922, 01:00.0 1af4:1001)")
        XCTAssertNoThrow(try result[1].get(), "the other component still gets its device")
        XCTAssertEqual(PCIAssignment.resolve(system([component("a", [blk])]), bus: [])[0].failureDescription,
                       "component a: PCI device 1af4:1001 is not present (the bus has no devices)")
    }

    func testSameDeviceByAddressAndByIDsIsAssignedOnce() {
        let result = PCIAssignment.resolve(system([component("a", [.address(bus: 0, device: 3, function: 0)]),
                                                   component("b", [.address(bus: 0, device: 3, function: 0)])]), bus: bus)
        XCTAssertNoThrow(try result[0].get())
        XCTAssertEqual(result[1].failureDescription, "component b: PCI device 00:03.0 is 00:03.0, already assigned to a")
    }

    func testCollisionsWithManifestGrantsFailTheComponent() {
        let ports = PCIAssignment.resolve(system([component("serial", [], ports: [PortRange(first: 0xc050, count: 8)]),
                                                  component("b", [blk])]), bus: bus)
        XCTAssertEqual(ports[1].failureDescription, "component b: PCI device 00:03.0 BAR 0 overlaps I/O ports granted to serial")
        let line = PCIAssignment.resolve(system([component("rtc", [], irqs: [11]), component("b", [blk])]), bus: bus)
        XCTAssertEqual(line[1].failureDescription, "component b: PCI device 00:03.0 interrupts on irq 11, which rtc already has")
        let tooMany = PCIAssignment.resolve(system([component("b", [blk, blk, blk])]), bus: bus)
        XCTAssertEqual(tooMany[0].failureDescription, "component b: 3 PCI devices, at most 2")
    }
}

extension Result where Failure == PCIAssignmentError {
    var failureDescription: String? {
        if case .failure(let e) = self { return e.description }
        return nil
    }
}
