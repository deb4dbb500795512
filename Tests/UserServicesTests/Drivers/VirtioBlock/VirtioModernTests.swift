import PCIBus
import UserRuntime
import XCTest
@testable import VirtioBlockDriver

/// The modern virtio interface as the block driver uses it: its structures found from the vendor capabilities
/// (and refused when one is missing, too short or outside a granted memory BAR), and the set-up sequence against
/// a model of the common configuration: version 1 required, ACCESS_PLATFORM and flush taken when offered,
/// FEATURES_OK checked, the queue's three parts written as two halves each, notify and ISR at their addresses.
final class VirtioModernTests: XCTestCase {
    /// A virtio-blk function with the four structures in BAR 4 (QEMU's layout: common 0, ISR 0x1000, device 0x2000,
    /// notify 0x3000 with multiplier 4).
    static func function(skipping: UInt8? = nil, commonLength: UInt32 = 0x38, bar: UInt8 = 4) -> FakePCIBus.Function {
        let f = FakePCIBus.Function(vendor: 0x1af4, device: 0x1042)
        f.memory64BAR(4, base: 0xe0_0000_0000, size: 0x4000)
        let structures: [(type: UInt8, offset: UInt32, length: UInt32)] = [(1, 0, commonLength), (3, 0x1000, 4),
                                                                          (4, 0x2000, 0x3c), (2, 0x3000, 0x1000)]
        var list: [(id: UInt8, offset: UInt8)] = []
        for (k, s) in structures.enumerated() where s.type != skipping {
            let at = UInt8(0x40 + 0x14 * k)
            list.append((0x09, at))
            f.bytes[Int(at) + 2] = s.type == 2 ? 20 : 16
            f.bytes[Int(at) + 3] = s.type
            f.bytes[Int(at) + 4] = bar
            f.set32(Int(at) + 8, s.offset)
            f.set32(Int(at) + 12, s.length)
            if s.type == 2 { f.set32(Int(at) + 16, 4) }
        }
        f.capabilities(list)
        return f
    }

    func read(_ f: FakePCIBus.Function) -> Result<VirtioPCICapabilities, VirtioPCICapabilities.Problem> {
        let bus = FakePCIBus()
        let a = PCIAddress(bus: 0, device: 2, function: 0)
        bus.add(a, f)
        return VirtioPCICapabilities.read(bus, a, isMemoryBAR: { $0 == 4 })
    }

    func testCapabilitiesLocateEveryStructure() throws {
        let caps = try read(Self.function()).get()
        XCTAssertEqual(caps.common, .init(bar: 4, offset: 0, length: 0x38))
        XCTAssertEqual(caps.isr, .init(bar: 4, offset: 0x1000, length: 4))
        XCTAssertEqual(caps.device, .init(bar: 4, offset: 0x2000, length: 0x3c))
        XCTAssertEqual(caps.notify, .init(bar: 4, offset: 0x3000, length: 0x1000))
        XCTAssertEqual(caps.notifyMultiplier, 4)
    }

    func testMissingShortOrUngrantedStructuresAreRefusedByName() {
        guard case .failure(let missing) = read(Self.function(skipping: 3)) else { return XCTFail("no ISR accepted") }
        XCTAssertEqual(missing.description, "no virtio capability of type 3 (ISR status)")
        guard case .failure(let short) = read(Self.function(commonLength: 0x20)) else { return XCTFail("short accepted") }
        XCTAssertEqual(short, .tooShort(type: 1, length: 0x20))
        guard case .failure(let bar) = read(Self.function(bar: 1)) else { return XCTFail("BAR 1 accepted") }
        XCTAssertEqual(bar.description, "the common configuration is in BAR 1, which is not a granted memory BAR")
        guard case .failure(let plain) = read(FakePCIBus.Function(vendor: 0x1af4, device: 0x1042)) else { return XCTFail() }
        XCTAssertEqual(plain, .missing(type: 1))
    }

    /// The common configuration of a modern device (the fields the driver touches), behind memory accesses.
    final class ModernDevice: RegisterOnlyPlatform {
        static let common: UInt64 = 0x50e0_0000_0000, isr: UInt64 = common + 0x1000, device: UInt64 = common + 0x2000
        static let notify: UInt64 = common + 0x3000
        var offered: UInt64 = 1 << 32 | 1 << 33 | 1 << 9 | 1 << 5
        var accepted: UInt64 = 0
        var acceptsFeatures = true
        var status: UInt8 = 0
        var deviceSelect: UInt32 = 0, driverSelect: UInt32 = 0
        var queueWords: [UInt64: UInt32] = [:]
        var queueEnabled = false, notified = 0, isrReads = 0
        var queueVector: UInt16 = 0xffff
        /// MSI-X table entries the device has.
        var vectors: UInt16 = 2
        var log: [String] = []
        var utcbAddress: UInt64 = 0
        var componentState: AnyObject?

        func load8(_ address: UInt64) -> UInt8 {
            switch address {
            case Self.common + 20: return status
            case Self.isr: isrReads += 1; return 1
            default: XCTFail("load8 at \(address)"); return 0
            }
        }
        func store8(_ address: UInt64, _ value: UInt8) {
            XCTAssertEqual(address, Self.common + 20)
            if value == 0 { status = 0; accepted = 0; queueEnabled = false; return }
            // FEATURES_OK sticks only for a feature set the device accepts (with version 1).
            if value & 8 != 0, !(acceptsFeatures && accepted & (1 << 32) != 0 && accepted & ~offered == 0) {
                status = value & ~8
            } else {
                status = value
            }
            log.append("status \(value)")
        }
        func load16(_ address: UInt64) -> UInt16 {
            switch address {
            case Self.common + 24: return 256
            case Self.common + 26: return queueVector
            case Self.common + 30: return 3 // queue_notify_off
            default: XCTFail("load16 at \(address)"); return 0
            }
        }
        func store16(_ address: UInt64, _ value: UInt16) {
            switch address {
            case Self.common + 22: XCTAssertEqual(value, 0, "queue 0")
            case Self.common + 24: log.append("size \(value)")
            case Self.common + 16: XCTAssertEqual(value, 0xffff, "no configuration-change vector")
            case Self.common + 26: queueVector = value < vectors ? value : 0xffff // a vector it lacks reads back as none
            case Self.common + 28: queueEnabled = value == 1
            case Self.notify: notified += 1
            default: XCTFail("store16 at \(address)")
            }
        }
        func load32(_ address: UInt64) -> UInt32 {
            switch address {
            case Self.common + 4: return UInt32(truncatingIfNeeded: offered >> (32 * UInt64(deviceSelect)))
            case Self.device: return 2048
            case Self.device + 4: return 0
            default: XCTFail("load32 at \(address)"); return 0
            }
        }
        func store32(_ address: UInt64, _ value: UInt32) {
            switch address {
            case Self.common + 0: deviceSelect = value
            case Self.common + 8: driverSelect = value
            case Self.common + 12:
                let shift = 32 * UInt64(driverSelect)
                accepted = accepted & ~(0xffff_ffff << shift) | UInt64(value) << shift
            case (Self.common + 32)...(Self.common + 55): queueWords[address - Self.common] = value
            default: XCTFail("store32 at \(address)")
            }
        }
    }

    static let transport = VirtioTransport.modern(common: ModernDevice.common, notify: ModernDevice.notify,
                                                  isr: ModernDevice.isr, device: ModernDevice.device)

    func testNegotiationTakesVersion1AccessPlatformAndFlushOnly() throws {
        let d = ModernDevice()
        let agreed = try XCTUnwrap(VirtioBlockDevice<ModernDevice>.negotiate(platform: d, transport: Self.transport))
        XCTAssertEqual(d.accepted, 1 << 32 | 1 << 33 | 1 << 9, "not the offered bit 5")
        XCTAssertTrue(agreed.flush && agreed.accessPlatform)
        XCTAssertEqual(agreed.queueSize, 256)
        XCTAssertEqual(d.log.prefix(3), ["status 1", "status 3", "status 11"])
        // Without ACCESS_PLATFORM on offer: not asked for, so the driver uses physical addresses.
        let plain = ModernDevice()
        plain.offered = 1 << 32
        XCTAssertEqual(VirtioBlockDevice<ModernDevice>.negotiate(platform: plain, transport: Self.transport)?.accessPlatform, false)
    }

    func testADeviceThatRefusesTheFeaturesOrLacksVersion1IsNotDriven() {
        let refusing = ModernDevice()
        refusing.acceptsFeatures = false
        XCTAssertNil(VirtioBlockDevice<ModernDevice>.negotiate(platform: refusing, transport: Self.transport))
        XCTAssertEqual(refusing.status & 0x80, 0x80, "FAILED set")
        let old = ModernDevice()
        old.offered = 1 << 9
        XCTAssertNil(VirtioBlockDevice<ModernDevice>.negotiate(platform: old, transport: Self.transport))
    }

    func testQueueNotifyISRAndCapacityUseTheirRegisters() {
        let d = ModernDevice()
        let layout = VirtqueueLayout(size: 256)
        Self.transport.setQueue(d, layout: layout, base: 0x60_0000_1000_0000)
        func address(_ field: UInt64) -> UInt64 { UInt64(d.queueWords[field]!) | UInt64(d.queueWords[field + 4]!) << 32 }
        XCTAssertEqual(address(32), 0x60_0000_1000_0000 + layout.descriptors)
        XCTAssertEqual(address(40), 0x60_0000_1000_0000 + layout.available)
        XCTAssertEqual(address(48), 0x60_0000_1000_0000 + layout.used)
        XCTAssertTrue(d.queueEnabled)
        XCTAssertEqual(d.queueVector, 0xffff, "INTx unless a vector is named")
        XCTAssertEqual(d.log, ["size 256"])
        // With MSI-X: the vector is written and read back; one the device lacks is refused.
        XCTAssertTrue(Self.transport.setQueue(d, layout: layout, base: 0x60_0000_1000_0000, vector: 1))
        XCTAssertEqual(d.queueVector, 1)
        XCTAssertFalse(Self.transport.setQueue(d, layout: layout, base: 0x60_0000_1000_0000, vector: 5))
        Self.transport.notify(d)
        Self.transport.acknowledgeInterrupt(d)
        XCTAssertEqual(d.notified, 1)
        XCTAssertEqual(d.isrReads, 1)
        XCTAssertEqual(Self.transport.capacity(d), 2048)
    }
}
