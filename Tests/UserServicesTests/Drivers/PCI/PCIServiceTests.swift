import KernelABI
import PCIBus
import XCTest

/// The pci service's answers: a client sees only its own devices, reads anything, writes only what the filter
/// allows, and changes decoding and bus mastering only through set-command.
final class PCIServiceTests: XCTestCase {
    let a = PCIAddress(bus: 0, device: 3, function: 0)

    func setUp(_ bus: FakePCIBus) -> [PCIFunction] {
        let f = PCIEnumerationTests.virtioBlock()
        f.capabilities([(0x05, 0x50), (0x09, 0x60), (0x11, 0x70)])
        bus.add(a, f)
        bus.add(PCIAddress(bus: 0, device: 4, function: 0), .init(vendor: 0x8086, device: 0x10d3))
        return PCIEnumeration.scan(bus).filter { $0.address == a }
    }

    func testClientSeesOnlyItsDevices() {
        let bus = FakePCIBus()
        let mine = setUp(bus)
        let service = PCIService(config: bus)
        XCTAssertEqual(service.handle([1], devices: mine), [0, 1])
        XCTAssertEqual(service.handle([2, 1], devices: mine), [Status.badRange.rawValue], "index 1 is nobody's")
        XCTAssertEqual(service.handle([1], devices: []), [0, 0])
        XCTAssertEqual(service.handle([3, 0, 0, 4], devices: []), [Status.badRange.rawValue])
        let described = service.handle([2, 0], devices: mine)
        XCTAssertEqual(Array(described.prefix(6)), [0, UInt64(a.routingID), 0x1001_1af4, 0x01_00_00, 11, 3])
        XCTAssertEqual(Array(described[6..<9]), [1, 0xc040, 0x40])
    }

    func testReadsAreAlignedAndInsideTheSpace() {
        let bus = FakePCIBus()
        let mine = setUp(bus)
        let service = PCIService(config: bus)
        XCTAssertEqual(service.handle([3, 0, 0, 4], devices: mine), [0, 0x1001_1af4])
        XCTAssertEqual(service.handle([3, 0, 2, 2], devices: mine), [0, 0x1001])
        for bad: [UInt64] in [[3, 0, 1, 2], [3, 0, 0x100, 1], [3, 0, 0xfe, 4], [3, 0, 0, 3], [3, 0, 0]] {
            XCTAssertEqual(service.handle(bad, devices: mine), [Status.badRange.rawValue], "\(bad)")
        }
    }

    func testRawWritesToProtectedRegistersAreRefused() {
        let bus = FakePCIBus()
        let mine = setUp(bus)
        let service = PCIService(config: bus)
        let refused = [Status.insufficientRights.rawValue]
        let protected: [(UInt64, UInt64, String)] = [
            (0x10, 4, "BAR 0"), (0x24, 4, "BAR 5"), (0x04, 2, "command"), (0x04, 4, "command and status"),
            (0x30, 4, "expansion ROM"), (0x3c, 1, "interrupt line"), (0x50, 2, "MSI header"),
            (0x52, 2, "MSI control (enable)"), (0x54, 4, "MSI address"), (0x72, 2, "MSI-X control"),
            (0x60, 1, "a capability id"), (0x61, 1, "a next pointer"), (0x00, 2, "vendor"),
        ]
        for (offset, width, what) in protected {
            XCTAssertEqual(service.handle([4, 0, offset, width, 0xffff_ffff], devices: mine), refused, what)
        }
        XCTAssertEqual(bus.functions[a]!.get32(0x10), 0xc041, "the BAR did not move")
        XCTAssertEqual(bus.functions[a]!.get16(0x52), 0, "MSI stays off")
        XCTAssertEqual(service.handle([4, 0, 0x11, 2, 0], devices: mine), [Status.badRange.rawValue], "misaligned")
        XCTAssertEqual(service.handle([4, 0, 0xff, 4, 0], devices: mine), [Status.badRange.rawValue], "past the end")
    }

    func testDeviceSpecificSpaceAndHarmlessHeaderBitsAreWritable() {
        let bus = FakePCIBus()
        let mine = setUp(bus)
        let service = PCIService(config: bus)
        XCTAssertEqual(service.handle([4, 0, 0x80, 4, 0x1234_5678], devices: mine), [0])
        XCTAssertEqual(bus.functions[a]!.get32(0x80), 0x1234_5678)
        XCTAssertEqual(service.handle([4, 0, 0x62, 2, 0xabcd], devices: mine), [0], "inside a non-MSI capability")
        XCTAssertEqual(service.handle([4, 0, 0x0c, 1, 0x10], devices: mine), [0], "cache line size")
        XCTAssertEqual(service.handle([4, 0, 0x06, 2, 0xffff], devices: mine), [0], "status: write 1 to clear")
    }

    func testSetCommandIsCheckedAgainstTheDevicesBARs() {
        let bus = FakePCIBus()
        let mine = setUp(bus)
        let service = PCIService(config: bus)
        XCTAssertEqual(service.handle([5, 0, PCICommandFlags.io | PCICommandFlags.busMaster], devices: mine), [0, 0x5])
        XCTAssertEqual(bus.functions[a]!.get16(4), 0x5)
        XCTAssertEqual(service.handle([5, 0, 0x10], devices: mine), [Status.badRange.rawValue], "unknown flag")
        // A device with no I/O BAR cannot be told to decode I/O.
        let plain = PCIFunction(address: a, vendor: 1, device: 2, classCode: 0, bars: [], interruptLine: 0, interruptPin: 0)
        XCTAssertEqual(service.handle([5, 0, PCICommandFlags.io], devices: [plain]), [Status.badRange.rawValue])
        XCTAssertEqual(service.handle([5, 0, PCICommandFlags.memory], devices: [plain]), [Status.badRange.rawValue])
        XCTAssertEqual(service.handle([5, 0, 0], devices: mine), [0, 0])
    }

    func testHostileRequestsGetErrorsNotTraps() {
        let bus = FakePCIBus()
        let mine = setUp(bus)
        let service = PCIService(config: bus)
        var random = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let count = Int.random(in: 0...6, using: &random)
            let words = (0..<count).map { _ in
                Bool.random(using: &random) ? UInt64.random(in: 0...8, using: &random) : UInt64.random(in: 0...UInt64.max, using: &random)
            }
            let reply = service.handle(words, devices: mine)
            XCTAssertNotNil(Status(rawValue: reply[0]), "\(words)")
        }
        XCTAssertEqual(bus.functions[a]!.get32(0x10), 0xc041, "no random request moved the BAR")
    }

    func testClientTableRoundTrips() {
        let bus = FakePCIBus()
        let mine = setUp(bus)
        let clients = [PCIClientTable.Client(landing: 0x4321, devices: mine), PCIClientTable.Client(landing: 7, devices: [])]
        let words = PCIClientTable.words(clients)
        XCTAssertLessThanOrEqual(PCIClientTable.headerWords + PCIClientTable.maxClients * PCIClientTable.clientWords, 512)
        XCTAssertEqual(PCIClientTable.read { $0 < words.count ? words[$0] : 0 }, clients)
        var broken = words
        broken[1] = 99
        XCTAssertNil(PCIClientTable.read { $0 < broken.count ? broken[$0] : 0 })
        broken = words
        broken[PCIClientTable.headerWords + 1] = 3 // three devices for client 0
        XCTAssertNil(PCIClientTable.read { $0 < broken.count ? broken[$0] : 0 })
    }
}
