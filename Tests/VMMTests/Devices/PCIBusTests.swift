import XCTest
@testable import DeviceModels

final class PCIBusTests: XCTestCase {
    /// A function with an I/O BAR 0 (32 ports) and a 32-bit memory BAR 1 (4 KiB), whose handlers remember
    /// the last access.
    private final class TestFunction: PCIFunction, MMIODevice, PortIODevice {
        let configurationSpace = PCIConfigurationSpace(identity: PCIFunctionIdentity(
            vendorID: 0x1234, deviceID: 0x0001, revision: 0, classCode: 0xff_00_00,
            subsystemVendorID: 0, subsystemID: 0, interruptPin: 1))
        var lastMMIO: (offset: UInt64, size: Int)?
        var lastPort: UInt16?
        var pin: PCIInterruptPin?

        init() throws {
            try configurationSpace.defineBAR(0, XCTUnwrap(PCIBaseAddressRegister(kind: .io, size: 32)))
            try configurationSpace.defineBAR(1, XCTUnwrap(PCIBaseAddressRegister(kind: .memory32, size: 0x1000)))
        }
        func memoryHandler(bar: Int) -> MMIODevice? { bar == 1 ? self : nil }
        func portHandler(bar: Int) -> PortIODevice? { bar == 0 ? self : nil }
        func connect(interrupt: PCIInterruptPin) { pin = interrupt }
        func mmioRead(offset: UInt64, size: Int) -> UInt64 { lastMMIO = (offset, size); return 0x42 }
        func mmioWrite(offset: UInt64, size: Int, value: UInt64) { lastMMIO = (offset, size) }
        func portRead(_ port: UInt16, size: Int) -> UInt32 { lastPort = port; return 0x17 }
        func portWrite(_ port: UInt16, size: Int, value: UInt32) { lastPort = port }
    }

    /// A function with one 64-bit memory BAR 4 of 16 KiB (what a virtio function has).
    private final class WideFunction: PCIFunction {
        let configurationSpace = PCIConfigurationSpace(identity: PCIFunctionIdentity(
            vendorID: 0x1234, deviceID: 0x0002, revision: 0, classCode: 0xff_00_00,
            subsystemVendorID: 0, subsystemID: 0, interruptPin: 0))

        init() throws {
            try configurationSpace.defineBAR(4, XCTUnwrap(PCIBaseAddressRegister(kind: .memory64, size: 0x4000)))
        }
    }

    private let lines = PCITestInterruptLines()

    private func address(slot: Int, offset: Int, function: Int = 0, bus: Int = 0) -> UInt32 {
        0x8000_0000 | UInt32(bus) << 16 | UInt32(slot) << 11 | UInt32(function) << 8 | UInt32(offset)
    }

    func testHostBridgeIsAQ35MCHAtZero() {
        let bus = PCIBus(interrupts: lines)
        let driver = PCITestConfigurationAccess(bus: bus)
        XCTAssertEqual(driver.configRead(slot: 0, offset: 0, size: 4), 0x29c0_8086)
        XCTAssertEqual(driver.configRead(slot: 0, offset: 8, size: 4) >> 8, 0x06_00_00, "host bridge class")
        XCTAssertEqual(driver.configRead(slot: 0, offset: 0x0e, size: 1), 0)
        XCTAssertEqual(driver.configRead(slot: 0, offset: 0x3d, size: 1), 0, "no interrupt pin")
        XCTAssertEqual(driver.enumerate(), [0])
    }

    func testLinuxType1ProbeSucceeds() {
        // arch/x86/pci/direct.c pci_check_type1 and pci_sanity_check.
        let bus = PCIBus(interrupts: lines)
        bus.portWrite(0xcfb, size: 1, value: 0x01)
        let saved = bus.portRead(0xcf8, size: 4)
        bus.portWrite(0xcf8, size: 4, value: 0x8000_0000)
        XCTAssertEqual(bus.portRead(0xcf8, size: 4), 0x8000_0000)
        bus.portWrite(0xcf8, size: 4, value: saved)
        let driver = PCITestConfigurationAccess(bus: bus)
        let sane = (0..<32).contains { slot in
            driver.configRead(slot: slot, offset: 0x0a, size: 2) == 0x0600 || driver.configRead(slot: slot, offset: 0, size: 2) == 0x8086
        }
        XCTAssertTrue(sane)
    }

    func testAddressRegisterAndDataPortDecoding() {
        let bus = PCIBus(interrupts: lines)
        bus.portWrite(0xcf8, size: 4, value: 0xffff_ffff)
        XCTAssertEqual(bus.portRead(0xcf8, size: 4), 0x80ff_fffc, "reserved bits read as zero")
        bus.portWrite(0xcf8, size: 4, value: address(slot: 0, offset: 0))
        bus.portWrite(0xcf9, size: 1, value: 0x06)  // the chipset's reset control register, not ours
        XCTAssertEqual(bus.portRead(0xcf8, size: 4), address(slot: 0, offset: 0))
        XCTAssertFalse(PCIBus.claims(port: 0xcf9, size: 1))
        XCTAssertFalse(PCIBus.claims(port: 0xcf8, size: 2))
        XCTAssertTrue(PCIBus.claims(port: 0xcf8, size: 4))
        XCTAssertTrue(PCIBus.claims(port: 0xcfe, size: 2))
        XCTAssertFalse(PCIBus.claims(port: 0xcfe, size: 4), "crosses the data dword")
        XCTAssertEqual(bus.portRead(0xcf9, size: 1), 0xff)
        // Byte and word accesses pick bytes of the addressed dword.
        XCTAssertEqual(bus.portRead(0xcfc, size: 1), 0x86)
        XCTAssertEqual(bus.portRead(0xcfd, size: 1), 0x80)
        XCTAssertEqual(bus.portRead(0xcfe, size: 2), 0x29c0)
        XCTAssertEqual(bus.portRead(0xcff, size: 1), 0x29)
        XCTAssertEqual(bus.portRead(0xcfd, size: 4), 0xffff_ffff)
        // Without the enable bit there is no configuration cycle.
        bus.portWrite(0xcf8, size: 4, value: 0)
        XCTAssertEqual(bus.portRead(0xcfc, size: 4), 0xffff_ffff)
    }

    func testAbsentDevicesFunctionsAndBusesReadAllOnes() throws {
        let bus = PCIBus(interrupts: lines)
        try bus.attach(TestFunction(), slot: 3)
        for target in [address(slot: 4, offset: 0), address(slot: 3, offset: 0, function: 1),
                       address(slot: 0, offset: 0, bus: 1), address(slot: 31, offset: 0xfc)] {
            bus.portWrite(0xcf8, size: 4, value: target)
            XCTAssertEqual(bus.portRead(0xcfc, size: 4), 0xffff_ffff)
            XCTAssertEqual(bus.portRead(0xcfe, size: 2), 0xffff)
            bus.portWrite(0xcfc, size: 4, value: 0)  // dropped, no crash
        }
        bus.portWrite(0xcf8, size: 4, value: address(slot: 3, offset: 0))
        XCTAssertEqual(bus.portRead(0xcfc, size: 4), 0x0001_1234)
    }

    func testAttachRoutesTheInterruptPinAndRefusesBadSlots() throws {
        let bus = PCIBus(interrupts: lines)
        let function = try TestFunction()
        try bus.attach(function, slot: 2)
        XCTAssertEqual(function.pin?.line, 11, "slot 2 INTA# -> PIRQC -> IRQ 11")
        XCTAssertEqual(function.configurationSpace.interruptLine, 11)
        XCTAssertThrowsError(try bus.attach(TestFunction(), slot: 0)) {
            XCTAssertEqual($0 as? PCIConfigurationError, .slotOutOfRange(0))
        }
        XCTAssertThrowsError(try bus.attach(TestFunction(), slot: 32)) {
            XCTAssertEqual($0 as? PCIConfigurationError, .slotOutOfRange(32))
        }
        XCTAssertThrowsError(try bus.attach(TestFunction(), slot: 2)) {
            XCTAssertEqual($0 as? PCIConfigurationError, .slotOccupied(2))
        }
    }

    func testBARMapFollowsProgrammingAndDecodeEnables() throws {
        let bus = PCIBus(interrupts: lines)
        let function = try TestFunction()
        try bus.attach(function, slot: 5)
        let driver = PCITestConfigurationAccess(bus: bus)
        XCTAssertEqual(driver.sizeBAR(slot: 5, bar: 0).size, 32)
        XCTAssertTrue(driver.sizeBAR(slot: 5, bar: 0).isIO)
        XCTAssertEqual(driver.sizeBAR(slot: 5, bar: 1).size, 0x1000)
        XCTAssertEqual(driver.sizeBAR(slot: 5, bar: 2).size, 0)
        driver.configWrite(slot: 5, offset: 0x10, size: 4, value: 0xc000)
        driver.configWrite(slot: 5, offset: 0x14, size: 4, value: 0xfebf_f000)
        XCTAssertNil(bus.mmioDevice(at: 0xfebf_f010), "memory decoding is off")
        XCTAssertNil(bus.ioDevice(at: 0xc004))
        driver.configWrite(slot: 5, offset: 4, size: 2, value: 0x3)
        let (device, offset) = try XCTUnwrap(bus.mmioDevice(at: 0xfebf_f010))
        XCTAssertEqual(offset, 0x10)
        XCTAssertEqual(device.mmioRead(offset: offset, size: 4), 0x42)
        XCTAssertEqual(function.lastMMIO?.offset, 0x10)
        XCTAssertNil(bus.mmioDevice(at: 0xfec0_0000), "one past the BAR")
        XCTAssertNil(bus.mmioDevice(at: 0xfebf_efff))
        let (port, portOffset) = try XCTUnwrap(bus.ioDevice(at: 0xc01f))
        XCTAssertEqual(portOffset, 0x1f)
        XCTAssertEqual(port.portRead(portOffset, size: 1), 0x17)
        XCTAssertNil(bus.ioDevice(at: 0xc020))
        XCTAssertEqual(bus.mappedRegions.map { $0.region.base }, [0xc000, 0xfebf_f000])
        // Moving the BAR moves the map; turning memory decoding off removes it.
        driver.configWrite(slot: 5, offset: 0x14, size: 4, value: 0xe000_0000)
        XCTAssertNil(bus.mmioDevice(at: 0xfebf_f010))
        XCTAssertEqual(bus.mmioDevice(at: 0xe000_0ffc)?.offset, 0xffc)
        driver.configWrite(slot: 5, offset: 4, size: 2, value: 0x1)
        XCTAssertNil(bus.mmioDevice(at: 0xe000_0ffc))
        XCTAssertNotNil(bus.ioDevice(at: 0xc000))
    }

    func testAssignResourcesPlacesEveryBARAlignedAndEnablesDecoding() throws {
        let bus = PCIBus(interrupts: lines)
        let small = try TestFunction()
        try bus.attach(small, slot: 1)
        let block = try WideFunction()
        try bus.attach(block, slot: 2)
        try bus.assignResources(memoryBase: 0xfe00_0800, memoryEnd: 0xfe10_0000, ioBase: 0xc000, ioEnd: 0xd000)
        let regions = bus.mappedRegions
        XCTAssertEqual(regions.count, 3)
        for mapped in regions {
            XCTAssertEqual(mapped.region.base % mapped.region.size, 0, "naturally aligned")
        }
        XCTAssertEqual(block.configurationSpace.decodedRegion(4)?.base, 0xfe00_4000, "largest first, aligned up")
        XCTAssertEqual(small.configurationSpace.decodedRegion(1)?.base, 0xfe00_8000)
        XCTAssertEqual(small.configurationSpace.decodedRegion(0)?.base, 0xc000)
        XCTAssertFalse(block.configurationSpace.isBusMaster, "bus mastering is the driver's")
        XCTAssertThrowsError(try bus.assignResources(memoryBase: 0xfe00_0000, memoryEnd: 0xfe00_2000,
                                                     ioBase: 0xc000, ioEnd: 0xd000)) {
            XCTAssertEqual($0 as? PCIConfigurationError, .resourceWindowTooSmall(bar: 4, slot: 2, size: 0x4000))
        }
    }
}
