import ManifestFormat
import PCIBus
import XCTest

/// Enumeration, BAR sizing and the capability walk against a fake configuration space.
final class PCIEnumerationTests: XCTestCase {
    static func virtioBlock() -> FakePCIBus.Function {
        let f = FakePCIBus.Function(vendor: 0x1af4, device: 0x1001, classCode: 0x01_00_00)
        f.ioBAR(0, base: 0xc040, size: 0x40)
        f.memoryBAR(1, base: 0xfebf_1000, size: 0x1000)
        f.memory64BAR(4, base: 0x80_0000_0000, size: 0x4000)
        f.interrupt(line: 11, pin: 1)
        return f
    }

    func bus() -> FakePCIBus { Self.sampleBus() }

    static func sampleBus() -> FakePCIBus {
        let bus = FakePCIBus()
        bus.add(PCIAddress(bus: 0, device: 0, function: 0), .init(vendor: 0x8086, device: 0x29c0, classCode: 0x06_00_00))
        bus.add(PCIAddress(bus: 0, device: 3, function: 0), Self.virtioBlock())
        // A multi-function device: function 2 exists, 1 does not.
        bus.add(PCIAddress(bus: 0, device: 0x1f, function: 0), .init(vendor: 0x8086, device: 0x2918, headerType: 0x80))
        bus.add(PCIAddress(bus: 0, device: 0x1f, function: 2), .init(vendor: 0x8086, device: 0x2922))
        // A bridge to bus 1 with one device behind it.
        let bridge = FakePCIBus.Function(vendor: 0x1b36, device: 0x000c, headerType: 1)
        bridge.bytes[0x19] = 1
        bus.add(PCIAddress(bus: 0, device: 4, function: 0), bridge)
        bus.add(PCIAddress(bus: 1, device: 0, function: 0), .init(vendor: 0x1af4, device: 0x1001))
        return bus
    }

    func testScanFindsEveryFunctionBehindBridgesAndMultiFunctionDevices() {
        let found = PCIEnumeration.scan(bus())
        XCTAssertEqual(found.map { $0.description }, ["00:00.0 8086:29c0", "00:03.0 1af4:1001", "00:04.0 1b36:000c",
                                                      "00:1f.0 8086:2918", "00:1f.2 8086:2922", "01:00.0 1af4:1001"])
        let blk = found[1]
        XCTAssertEqual(blk.classCode, 0x01_00_00)
        XCTAssertEqual(blk.legacyInterrupt, 11)
        XCTAssertNil(found[0].legacyInterrupt, "no pin: no interrupt")
    }

    func testBridgeLoopsAreWalkedOnce() {
        let bus = FakePCIBus()
        let bridge = FakePCIBus.Function(vendor: 0x1b36, device: 0x000c, headerType: 1)
        bridge.bytes[0x19] = 1
        bus.add(PCIAddress(bus: 0, device: 1, function: 0), bridge)
        let back = FakePCIBus.Function(vendor: 0x1b36, device: 0x000c, headerType: 1)
        back.bytes[0x19] = 0 // names bus 0 again
        bus.add(PCIAddress(bus: 1, device: 0, function: 0), back)
        let again = FakePCIBus.Function(vendor: 0x1b36, device: 0x000c, headerType: 1)
        again.bytes[0x19] = 1 // and bus 1 again
        bus.add(PCIAddress(bus: 1, device: 1, function: 0), again)
        XCTAssertEqual(PCIEnumeration.scan(bus).count, 3)
    }

    func testBARsAreSizedAndRestoredWithDecodingOffMeanwhile() {
        let bus = bus()
        let a = PCIAddress(bus: 0, device: 3, function: 0)
        bus.functions[a]!.set16(4, 0x0007)
        let bars = PCIBAR.probe(bus, a)
        XCTAssertEqual(bars, [PCIBAR(index: 0, kind: .io, base: 0xc040, size: 0x40),
                              PCIBAR(index: 1, kind: .memory32, base: 0xfebf_1000, size: 0x1000),
                              PCIBAR(index: 4, kind: .memory64, base: 0x80_0000_0000, size: 0x4000, prefetchable: true)])
        // Restored: the BARs read what the firmware put there, the command register too.
        XCTAssertEqual(bus.functions[a]!.get32(0x10), 0xc041)
        XCTAssertEqual(bus.functions[a]!.get32(0x20), 0xc)
        XCTAssertEqual(bus.functions[a]!.get32(0x24), 0x80)
        XCTAssertEqual(bus.functions[a]!.get16(4), 0x0007)
        // Every all-ones write came while decoding was off (the first write clears the decode bits).
        let commandWrites = bus.writes.enumerated().filter { $0.element.1 == 4 }
        XCTAssertEqual(commandWrites.first?.element.2, 0x0004)
        XCTAssertEqual(commandWrites.last?.offset, bus.writes.count - 1)
    }

    func testUnassignedBARsAreLeftOut() {
        let bus = FakePCIBus()
        let a = PCIAddress(bus: 0, device: 2, function: 0)
        let f = FakePCIBus.Function(vendor: 0x1234, device: 0x1111)
        f.memoryBAR(0, base: 0, size: 0x1000) // implemented, never placed
        f.ioBAR(2, base: 0xc000, size: 0x20)
        bus.add(a, f)
        XCTAssertEqual(PCIBAR.probe(bus, a), [PCIBAR(index: 2, kind: .io, base: 0xc000, size: 0x20)])
    }

    func testCapabilityWalkStopsOnLoopsAndNeverEntersTheHeader() {
        let bus = FakePCIBus()
        let a = PCIAddress(bus: 0, device: 2, function: 0)
        let f = FakePCIBus.Function(vendor: 0x1234, device: 0x1111)
        f.capabilities([(0x09, 0x40), (0x05, 0x50), (0x11, 0x70)])
        f.set16(0x52, 1 << 7) // MSI with 64-bit addresses: 14 bytes
        f.bytes[0x71] = 0x40 // MSI-X points back to the first: a loop
        bus.add(a, f)
        XCTAssertEqual(PCICapability.list(bus, a), [PCICapability(id: 0x09, offset: 0x40, length: 2),
                                                    PCICapability(id: 0x05, offset: 0x50, length: 14),
                                                    PCICapability(id: 0x11, offset: 0x70, length: 12)])
        f.bytes[0x41] = 0x08 // into the header: the walk ends
        XCTAssertEqual(PCICapability.list(bus, a).count, 1)
    }

    func testSelectorsFindByAddressOrByIDsSkippingTakenDevices() {
        let found = PCIEnumeration.scan(bus())
        let byIDs = PCIDeviceSelector.ids(vendor: 0x1af4, device: 0x1001)
        XCTAssertEqual(PCIEnumeration.find(byIDs, in: found)?.address.description, "00:03.0")
        XCTAssertEqual(PCIEnumeration.find(byIDs, in: found, taken: [PCIAddress(bus: 0, device: 3, function: 0)])?
                        .address.description, "01:00.0")
        XCTAssertEqual(PCIEnumeration.find(.address(bus: 0, device: 0x1f, function: 2), in: found)?.device, 0x2922)
        XCTAssertNil(PCIEnumeration.find(.address(bus: 0, device: 0x1f, function: 1), in: found))
        XCTAssertNil(PCIEnumeration.find(.ids(vendor: 0x1af4, device: 0x1042), in: found))
    }
}
