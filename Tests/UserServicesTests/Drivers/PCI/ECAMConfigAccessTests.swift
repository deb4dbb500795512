import PCIBus
import UserRuntime
import XCTest

/// ECAM as the PCI driver uses it: every register access is one memory access of its width at
/// `base + (bus - startBus) << 20 | device << 15 | function << 12 | offset`; enumeration through it finds what the
/// bus holds; buses outside the window are absent.
final class ECAMConfigAccessTests: XCTestCase {
    /// Memory-mapped configuration space in front of a `FakePCIBus`, recording each access and its width.
    final class ECAMWindow: RegisterOnlyPlatform {
        let bus: FakePCIBus
        let base: UInt64
        let startBus: UInt8
        var accesses: [(address: UInt64, width: Int)] = []
        var utcbAddress: UInt64 = 0
        var componentState: AnyObject?

        init(bus: FakePCIBus, base: UInt64, startBus: UInt8) {
            self.bus = bus
            self.base = base
            self.startBus = startBus
        }

        func decode(_ address: UInt64) -> (PCIAddress, UInt8) {
            let offset = address - base
            let routing = UInt16(truncatingIfNeeded: offset >> 12) + UInt16(startBus) << 8
            return (PCIAddress(routingID: routing), UInt8(truncatingIfNeeded: offset & 0xfff))
        }
        func access(_ address: UInt64, _ width: PCIAccessWidth) -> UInt32 {
            accesses.append((address, Int(width.rawValue)))
            let (a, offset) = decode(address)
            return bus.read(a, offset: offset, width: width)
        }
        func store(_ address: UInt64, _ width: PCIAccessWidth, _ value: UInt32) {
            accesses.append((address, Int(width.rawValue)))
            let (a, offset) = decode(address)
            bus.write(a, offset: offset, width: width, value)
        }
        func load8(_ address: UInt64) -> UInt8 { UInt8(truncatingIfNeeded: access(address, .byte)) }
        func store8(_ address: UInt64, _ value: UInt8) { store(address, .byte, UInt32(value)) }
        func load16(_ address: UInt64) -> UInt16 { UInt16(truncatingIfNeeded: access(address, .word)) }
        func store16(_ address: UInt64, _ value: UInt16) { store(address, .word, UInt32(value)) }
        func load32(_ address: UInt64) -> UInt32 { access(address, .dword) }
        func store32(_ address: UInt64, _ value: UInt32) { store(address, .dword, value) }
    }

    func bus() -> FakePCIBus {
        let bus = FakePCIBus()
        bus.add(PCIAddress(bus: 0, device: 0, function: 0), .init(vendor: 0x8086, device: 0x29c0))
        let blk = PCIEnumerationTests.virtioBlock()
        blk.interrupt(line: 11, pin: 1)
        bus.add(PCIAddress(bus: 0, device: 2, function: 0), blk)
        return bus
    }

    func testEnumerationThroughECAMFindsWhatTheBusHolds() {
        let bus = bus()
        let window = ECAMWindow(bus: bus, base: 0x5000_b000_0000, startBus: 0)
        let ecam = ECAMConfigAccess(platform: window, base: 0x5000_b000_0000, startBus: 0, endBus: 255)
        XCTAssertEqual(PCIEnumeration.scan(ecam), PCIEnumeration.scan(bus))
        XCTAssertFalse(window.accesses.isEmpty)
        XCTAssertTrue(window.accesses.allSatisfy { $0.address % UInt64($0.width) == 0 }, "every access naturally aligned")
    }

    func testEachRegisterIsOneAccessOfItsWidthAtItsAddress() {
        let bus = bus()
        let window = ECAMWindow(bus: bus, base: 0x5000_b010_0000, startBus: 1)
        let ecam = ECAMConfigAccess(platform: window, base: 0x5000_b010_0000, startBus: 1, endBus: 1)
        let a = PCIAddress(bus: 1, device: 2, function: 3)
        _ = ecam.read16(a, PCIConfig.command)
        ecam.write32(a, 0x80, 0x1234_5678)
        _ = ecam.read8(a, PCIConfig.interruptLine)
        let function: UInt64 = 0x5000_b010_0000 + (2 << 15) + (3 << 12)
        XCTAssertEqual(window.accesses.map { $0.address }, [function + 4, function + 0x80, function + 0x3c])
        XCTAssertEqual(window.accesses.map { $0.width }, [2, 4, 1])
        // Outside the window's buses: nothing is touched, reads are all ones.
        window.accesses = []
        XCTAssertEqual(ecam.read32(PCIAddress(bus: 0, device: 0, function: 0), 0), 0xffff_ffff)
        XCTAssertEqual(ecam.read16(PCIAddress(bus: 2, device: 0, function: 0), 0), 0xffff)
        ecam.write32(PCIAddress(bus: 2, device: 0, function: 0), 4, 7)
        XCTAssertTrue(window.accesses.isEmpty)
    }
}
