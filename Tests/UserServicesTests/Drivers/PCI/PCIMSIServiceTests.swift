import KernelABI
import PCIBus
import XCTest

/// MSI through the pci service: a client names a message interrupt it was granted and the driver writes the
/// kernel's message for it into the device's MSI capability (32- or 64-bit), one vector, then sets enable; any
/// other number, a device without MSI or a broken capability is refused and nothing is enabled.
final class PCIMSIServiceTests: XCTestCase {
    let a = PCIAddress(bus: 0, device: 3, function: 0)
    let granted = [PCIMessageGrant(number: 25, message: MessageInterrupt(address: 0xfee0_1000, data: 0x4051))]
    let ok = Status.success.rawValue

    func device(_ bus: FakePCIBus, msiAt offset: UInt8? = 0x50, control: UInt16 = 0) -> [PCIFunction] {
        let f = PCIEnumerationTests.virtioBlock()
        if let offset {
            f.capabilities([(0x09, 0x40), (0x05, offset)])
            f.set16(Int(offset) + 2, control)
        } else {
            f.capabilities([(0x09, 0x40)])
        }
        bus.add(a, f)
        return PCIEnumeration.scan(bus).filter { $0.address == a }
    }

    func testA32BitCapabilityGetsTheKernelsMessageAndIsEnabledLast() {
        let bus = FakePCIBus()
        let mine = device(bus, control: 0x0006) // 4 vectors capable, none enabled
        let service = PCIService(config: bus)
        let reply = service.handle([6, 0, 25], devices: mine, messages: granted)
        XCTAssertEqual(reply, [ok, 0x0007], "enabled, multiple-message enable 0: one vector")
        let f = bus.functions[a]!
        XCTAssertEqual(f.get32(0x54), 0xfee0_1000)
        XCTAssertEqual(f.get16(0x58), 0x4051)
        let controlWrites = bus.writes.filter { $0.0 == a && $0.1 == 0x52 }
        XCTAssertEqual(controlWrites.last?.2, 0x0007, "enable written last")
        let dataWrite = bus.writes.lastIndex { $0.0 == a && $0.1 == 0x58 }!
        XCTAssertLessThan(dataWrite, bus.writes.lastIndex { $0.0 == a && $0.1 == 0x52 }!)
        XCTAssertEqual(service.handle([7, 0], devices: mine, messages: granted), [ok, 0x0006])
        XCTAssertEqual(f.get16(0x52) & PCIConfig.msiEnable, 0)
    }

    func testA64BitCapabilityGetsBothHalvesAndTheDataAtItsOffset() {
        let bus = FakePCIBus()
        let mine = device(bus, control: PCIConfig.msi64Bit | 0x70) // a stale multiple-message enable
        let message = PCIMessageGrant(number: 30, message: MessageInterrupt(address: 0x1_fee0_0000, data: 0x4060))
        XCTAssertEqual(PCIService(config: bus).handle([6, 0, 30], devices: mine, messages: [message]),
                       [ok, UInt64(PCIConfig.msi64Bit | 1)])
        let f = bus.functions[a]!
        XCTAssertEqual(f.get32(0x54), 0xfee0_0000)
        XCTAssertEqual(f.get32(0x58), 1)
        XCTAssertEqual(f.get16(0x5c), 0x4060)
    }

    func testOnlyAGrantedMessageInterruptOnADeviceWithMSIIsEnabled() {
        let bus = FakePCIBus()
        let mine = device(bus)
        let service = PCIService(config: bus)
        for bad: [UInt64] in [[6, 0, 26], [6, 0, 4], [6, 0, UInt64.max]] {
            XCTAssertEqual(service.handle(bad, devices: mine, messages: granted), [Status.insufficientRights.rawValue], "\(bad)")
        }
        XCTAssertEqual(service.handle([6, 0, 25], devices: mine, messages: []), [Status.insufficientRights.rawValue],
                       "a client with no message interrupts")
        XCTAssertEqual(service.handle([6, 1, 25], devices: mine, messages: granted), [Status.badRange.rawValue], "not its device")
        XCTAssertEqual(service.handle([6, 0], devices: mine, messages: granted), [Status.badRange.rawValue], "too few words")
        XCTAssertEqual(bus.functions[a]!.get16(0x52), 0, "nothing enabled, nothing written")
        XCTAssertEqual(bus.functions[a]!.get32(0x54), 0)
        // A 32-bit capability cannot take a message above 4 GiB: refused, MSI stays off.
        let high = [PCIMessageGrant(number: 25, message: MessageInterrupt(address: 0x1_0000_0000, data: 1))]
        XCTAssertEqual(service.handle([6, 0, 25], devices: mine, messages: high), [Status.badRange.rawValue])
        XCTAssertEqual(bus.functions[a]!.get16(0x52) & PCIConfig.msiEnable, 0)

        let none = FakePCIBus()
        let plain = device(none, msiAt: nil)
        XCTAssertEqual(PCIService(config: none).handle([6, 0, 25], devices: plain, messages: granted), [Status.badState.rawValue])
        XCTAssertEqual(PCIService(config: none).handle([7, 0], devices: plain, messages: granted), [Status.badState.rawValue])
    }

    func testACapabilityAtTheEndOfTheSpaceIsRefusedNotWrittenPastIt() {
        let bus = FakePCIBus()
        let mine = device(bus, msiAt: 0xf8, control: PCIConfig.msi64Bit)
        XCTAssertEqual(PCIService(config: bus).handle([6, 0, 25], devices: mine, messages: granted), [Status.badState.rawValue])
        XCTAssertEqual(bus.functions[a]!.get16(0xfa) & PCIConfig.msiEnable, 0)
    }

    func testClientTableCarriesTheMessages() {
        let bus = FakePCIBus()
        let mine = device(bus)
        let clients = [PCIClientTable.Client(landing: 9, devices: mine, messages: granted),
                       PCIClientTable.Client(landing: 7, devices: [])]
        let words = PCIClientTable.words(clients)
        XCTAssertLessThanOrEqual(PCIClientTable.headerWords + PCIClientTable.maxClients * PCIClientTable.clientWords, 512)
        XCTAssertEqual(PCIClientTable.read { $0 < words.count ? words[$0] : 0 }, clients)
        var broken = words
        broken[PCIClientTable.headerWords + 2 + PCIClientTable.maxDevices * PCIClientTable.deviceWords] = 5
        XCTAssertNil(PCIClientTable.read { $0 < broken.count ? broken[$0] : 0 }, "more messages than a client may have")
    }
}
