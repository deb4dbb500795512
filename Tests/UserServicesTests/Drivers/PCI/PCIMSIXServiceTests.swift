import KernelABI
import PCIBus
import XCTest

/// MSI-X through the pci service: the driver writes the kernel's message for a granted message interrupt into the
/// table entry the client names (in a BAR mapped for the PCI driver, reached through `msixStore`), unmasked, with
/// the function masked meanwhile and MSI off, then enables MSI-X; anything else is refused and nothing enabled.
final class PCIMSIXServiceTests: XCTestCase {
    let a = PCIAddress(bus: 0, device: 3, function: 0)
    let granted = [PCIMessageGrant(number: 24, message: MessageInterrupt(address: 0xfee0_0010, data: 0))]
    let ok = Status.success.rawValue

    /// virtio-blk with MSI-X at 0x60: 3 vectors, table at BAR 1 + 0, pending bits at BAR 1 + 0x800.
    func device(_ bus: FakePCIBus) -> [PCIFunction] {
        let f = PCIEnumerationTests.virtioBlock()
        f.capabilities([(0x09, 0x40), (0x11, 0x60)])
        f.set16(0x62, 0x0002)
        f.set32(0x64, 0x0000_0001)
        f.set32(0x68, 0x0000_0801)
        bus.add(a, f)
        return PCIEnumeration.scan(bus).filter { $0.address == a }
    }

    final class Table {
        var words: [UInt64: UInt32] = [:]
        var mapped = true
        func store(_ f: PCIFunction, _ bar: Int, _ offset: UInt64, _ value: UInt32) -> Bool {
            guard mapped, bar == 1 else { return false }
            words[offset] = value
            return true
        }
    }

    func testTheCapabilityAndItsPagesAreFound() throws {
        let bus = FakePCIBus()
        let mine = device(bus)
        let msix = try XCTUnwrap(PCIMSIX.find(bus, a))
        XCTAssertEqual(msix, PCIMSIX(capability: 0x60, tableSize: 3, tableBAR: 1, tableOffset: 0, pendingBAR: 1, pendingOffset: 0x800))
        let pages = msix.pages(of: mine[0])
        XCTAssertEqual(pages.count, 1, "table and pending bits share BAR 1's page")
        XCTAssertEqual(pages.first?.base, 0xfebf_1000)
        XCTAssertEqual(pages.first?.size, 0x1000)
        XCTAssertNil(PCIMSIX.find(bus, PCIAddress(bus: 0, device: 4, function: 0)))
    }

    func testAGrantedMessageGoesIntoTheEntryUnmaskedAndMSIXIsEnabled() {
        let bus = FakePCIBus()
        let mine = device(bus)
        let table = Table()
        let service = PCIService(config: bus, msixStore: table.store)
        XCTAssertEqual(service.handle([8, 0, 24, 2], devices: mine, messages: granted), [ok, 0x8002])
        XCTAssertEqual(table.words, [0x20: 0xfee0_0010, 0x24: 0, 0x28: 0, 0x2c: 0], "entry 2: address, data, unmasked")
        let controls = bus.writes.filter { $0.0 == a && $0.1 == 0x62 }.map { $0.2 }
        XCTAssertEqual(controls, [0x4002, 0x8002], "function masked while the entry changes, then enabled")
        // Disabling masks every entry and clears enable.
        XCTAssertEqual(service.handle([9, 0], devices: mine, messages: granted), [ok, 0x0002])
        XCTAssertEqual([0x0c, 0x1c, 0x2c].map { table.words[$0] }, [1, 1, 1])
    }

    func testUngrantedNumbersBadEntriesAndUnmappedTablesAreRefused() {
        let bus = FakePCIBus()
        let mine = device(bus)
        let table = Table()
        let service = PCIService(config: bus, msixStore: table.store)
        XCTAssertEqual(service.handle([8, 0, 25, 0], devices: mine, messages: granted), [Status.insufficientRights.rawValue])
        XCTAssertEqual(service.handle([8, 0, 24, 3], devices: mine, messages: granted), [Status.badRange.rawValue], "3 vectors")
        XCTAssertEqual(service.handle([8, 0, 24], devices: mine, messages: granted), [Status.badRange.rawValue], "no entry word")
        XCTAssertEqual(PCIService(config: bus).handle([8, 0, 24, 0], devices: mine, messages: granted), [Status.badState.rawValue])
        table.mapped = false
        XCTAssertEqual(service.handle([8, 0, 24, 0], devices: mine, messages: granted), [Status.badState.rawValue])
        XCTAssertEqual(bus.functions[a]!.get16(0x62), 0x0002, "control restored, nothing enabled")
        XCTAssertTrue(table.words.isEmpty)
        // A device without MSI-X, and a raw write to the capability, are refused.
        let other = FakePCIBus()
        other.add(a, PCIEnumerationTests.virtioBlock())
        let plain = PCIEnumeration.scan(other).filter { $0.address == a }
        XCTAssertEqual(PCIService(config: other, msixStore: table.store).handle([8, 0, 24, 0], devices: plain, messages: granted),
                       [Status.badState.rawValue])
        XCTAssertEqual(service.handle([4, 0, 0x62, 2, 0x8002], devices: mine, messages: granted), [Status.insufficientRights.rawValue])
    }
}
