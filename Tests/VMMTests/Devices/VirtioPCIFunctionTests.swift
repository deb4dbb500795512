import XCTest
@testable import DeviceModels

/// The modern transport as a Linux guest meets it: identity, BAR 4, capabilities, the status handshake,
/// queue setup, the ISR and INTx, the configuration-access window, and what it does with a driver's mistakes.
final class VirtioPCIFunctionTests: XCTestCase {
    func testIdentityIsAModernVirtioBlockFunction() throws {
        let machine = try VirtioTestMachine()
        let driver = machine.driver
        XCTAssertEqual(driver.enumerate(), [0, 1])
        XCTAssertEqual(driver.configRead(slot: 1, offset: 0, size: 4), 0x1042_1af4)
        XCTAssertEqual(driver.configRead(slot: 1, offset: 8, size: 1), 1, "revision 1: modern only")
        XCTAssertEqual(driver.configRead(slot: 1, offset: 8, size: 4) >> 8, 0x01_00_00, "mass storage")
        XCTAssertEqual(driver.configRead(slot: 1, offset: 0x2c, size: 4), 0x1100_1af4)
        XCTAssertEqual(driver.configRead(slot: 1, offset: 0x3d, size: 1), 1, "INTA#")
        XCTAssertEqual(driver.configRead(slot: 1, offset: 0x3c, size: 1), 10, "slot 1 INTA# -> PIRQB -> IRQ 10")
        // BAR 5 is the upper half of BAR 4, which Linux does not size on its own.
        for bar in [0, 1, 2, 3] { XCTAssertEqual(driver.sizeBAR(slot: 1, bar: bar).size, 0, "BAR \(bar)") }
        let bar4 = driver.sizeBAR(slot: 1, bar: 4)
        XCTAssertEqual(bar4.size, 0x4000)
        XCTAssertTrue(bar4.is64)
        XCTAssertEqual(driver.configRead(slot: 1, offset: 0x20, size: 4) & 0xf, 0x4, "64-bit, not prefetchable")
    }

    func testCapabilitiesLocateEveryStructureInBAR4() throws {
        let machine = try VirtioTestMachine()
        let caps = machine.driver.capabilities(slot: 1)
        XCTAssertEqual(caps.map { $0.type }, [1, 2, 3, 4, 5])
        let byType = Dictionary(uniqueKeysWithValues: caps.map { ($0.type, $0) })
        XCTAssertEqual(byType[1]?.offset, 0x0000)
        XCTAssertEqual(byType[2]?.offset, 0x3000)
        XCTAssertEqual(byType[3]?.offset, 0x1000)
        XCTAssertEqual(byType[4]?.offset, 0x2000)
        for type: UInt8 in [1, 2, 3, 4] {
            XCTAssertEqual(byType[type]?.bar, 4)
            XCTAssertEqual(byType[type]?.length, 0x1000)
        }
        XCTAssertEqual(byType[2]?.multiplier, 4)
        XCTAssertEqual(machine.driver.configRead(slot: 1, offset: byType[2]!.position + 2, size: 1), 20, "notify cap_len")
        XCTAssertEqual(machine.driver.configRead(slot: 1, offset: byType[5]!.position + 2, size: 1), 20, "pci_cfg cap_len")
        // Linux's vp_modern_map_capability: the common structure needs 56 bytes inside the BAR.
        XCTAssertGreaterThanOrEqual(byType[1]!.length, 56)
        // The capabilities cannot be rewritten.
        let position = byType[1]!.position
        machine.driver.configWrite(slot: 1, offset: position + 8, size: 4, value: 0x2000)
        XCTAssertEqual(machine.driver.capabilities(slot: 1).first?.offset, 0)
    }

    func testHandshakeAndFeatures() throws {
        let machine = try VirtioTestMachine()
        let driver = machine.driver
        XCTAssertTrue(driver.findDevice())
        let offered = try XCTUnwrap(driver.negotiate())
        XCTAssertEqual(offered, VirtioFeature.version1 | VirtioFeature.ringIndirectDescriptors
            | VirtioBlock.Feature.segmentMaximum | VirtioBlock.Feature.blockSize | VirtioBlock.Feature.flush)
        XCTAssertEqual(machine.function.driverFeatures, offered)
        XCTAssertEqual(driver.read(driver.common + 0x12, size: 2), 1, "num_queues")
        XCTAssertEqual(driver.read(driver.common + 0x10, size: 2), 0xffff, "msix_config: no vector")
        driver.setUpQueue(size: 128)
        XCTAssertEqual(driver.read(driver.common + 0x1c, size: 2), 1, "queue enabled")
        XCTAssertEqual(driver.read(driver.common + 0x1e, size: 2), 0, "queue_notify_off")
        XCTAssertEqual(driver.read(driver.common + 0x20, size: 8), VirtioTestDriver.descriptorTable)
        XCTAssertEqual(driver.read(driver.common + 0x18, size: 2), 128)
        driver.write(driver.common + 0x16, size: 2, 1)
        XCTAssertEqual(driver.read(driver.common + 0x18, size: 2), 0, "queue 1 does not exist")
        driver.driverOK()
        XCTAssertEqual(driver.status, 0x0f)
        // A reset clears everything.
        driver.setStatus(0)
        XCTAssertEqual(driver.status, 0)
        XCTAssertEqual(machine.function.driverFeatures, 0)
        driver.write(driver.common + 0x16, size: 2, 0)
        XCTAssertEqual(driver.read(driver.common + 0x1c, size: 2), 0)
        XCTAssertEqual(driver.read(driver.common + 0x18, size: 2), 256, "back to the maximum")
        XCTAssertEqual(driver.read(driver.common + 0x20, size: 8), 0)
    }

    func testFeaturesOKIsRefusedForUnofferedOrLegacyFeatureSets() throws {
        let machine = try VirtioTestMachine()
        let driver = machine.driver
        XCTAssertTrue(driver.findDevice())
        XCTAssertNil(driver.negotiate { $0 | VirtioFeature.ringEventIndex }, "EVENT_IDX is not offered")
        XCTAssertTrue(machine.function.log.drain().contains { $0.contains("FEATURES_OK refused") })
        XCTAssertNil(driver.negotiate { $0 & ~VirtioFeature.version1 }, "a legacy driver")
        XCTAssertNil(driver.negotiate { _ in VirtioBlock.Feature.readOnly | VirtioFeature.version1 }, "RO on a writable disk")
        // A non-zero word beyond bit 63.
        driver.setStatus(0)
        driver.setStatus(3)
        driver.write(driver.common + 0x08, size: 4, 1)
        driver.write(driver.common + 0x0c, size: 4, 1)
        driver.write(driver.common + 0x08, size: 4, 2)
        driver.write(driver.common + 0x0c, size: 4, 1)
        driver.setStatus(3 | 8)
        XCTAssertEqual(driver.status & 8, 0)
        // DRIVER_OK without FEATURES_OK.
        driver.setStatus(3 | 4)
        XCTAssertEqual(driver.status, 3)
        XCTAssertNotNil(driver.negotiate(), "a proper driver still gets through after a reset")
        // Features are frozen once FEATURES_OK is set.
        driver.write(driver.common + 0x08, size: 4, 0)
        driver.write(driver.common + 0x0c, size: 4, 0)
        XCTAssertNotEqual(machine.function.driverFeatures, 0)
        // The driver cannot clear bits or set DEVICE_NEEDS_RESET.
        driver.setStatus(1 | 64)
        XCTAssertEqual(driver.status, 1 | 2 | 8)
    }

    func testReadOnlyFieldsAndReconfiguringAnEnabledQueueAreIgnored() throws {
        let machine = try VirtioTestMachine()
        let driver = machine.driver
        XCTAssertTrue(driver.probe())
        _ = machine.function.log.drain()
        driver.write(driver.common + 0x04, size: 4, 0)          // device_feature
        driver.write(driver.common + 0x12, size: 2, 9)          // num_queues
        driver.write(driver.common + 0x15, size: 1, 9)          // config_generation
        driver.write(driver.common + 0x1e, size: 2, 5)          // queue_notify_off
        driver.write(driver.common + 0x18, size: 2, 8)          // size of an enabled queue
        driver.write(driver.common + 0x20, size: 8, 0x9000)     // address of an enabled queue
        driver.write(driver.common + 0x1c, size: 2, 0)          // disabling (only reset does)
        driver.write(driver.isr, size: 1, 3)                    // ISR is read-only
        driver.write(driver.common + 0x3a, size: 2, 1)          // queue_reset (not offered)
        driver.write(driver.common + 0x40, size: 4, 1)          // beyond the structure
        driver.write(driver.deviceConfiguration, size: 8, 1)   // capacity
        driver.write(VirtioTestDriver.barAddress + 0x3ffe, size: 4, 1)  // across the end of the BAR
        driver.write(driver.common + 0x00, size: 4, 0)
        XCTAssertEqual(driver.read(driver.common + 0x04, size: 4), 0x0000_0244 | 1 << 28)
        XCTAssertEqual(driver.read(driver.common + 0x12, size: 2), 1)
        XCTAssertEqual(driver.read(driver.common + 0x1e, size: 2), 0)
        XCTAssertEqual(driver.read(driver.common + 0x18, size: 2), 256)
        XCTAssertEqual(driver.read(driver.common + 0x20, size: 8), VirtioTestDriver.descriptorTable)
        XCTAssertEqual(driver.read(driver.common + 0x1c, size: 2), 1)
        XCTAssertEqual(driver.read(driver.deviceConfiguration, size: 8), UInt64(VirtioTestMachine.sectors))
        XCTAssertEqual(driver.status, 0x0f)
        let log = machine.function.log.drain()
        XCTAssertEqual(log.count, 12, "\(log)")
        XCTAssertTrue(log.allSatisfy { $0.hasPrefix("virtio 00:01.0: ") })
        XCTAssertTrue(log.contains { $0.contains("read-only device configuration") })
        XCTAssertTrue(log.contains { $0.contains("reconfigured while enabled") })
    }

    func testISRIsReadToClearAndDrivesTheINTxLine() throws {
        let machine = try VirtioTestMachine()
        let driver = machine.driver
        XCTAssertTrue(driver.probe())
        XCTAssertFalse(machine.lines.isHigh(machine.line))
        driver.submit(driver.blockRequest(type: VirtioBlock.RequestType.flush, sector: 0, dataLength: 0, deviceWritesData: false))
        driver.kick()
        XCTAssertTrue(machine.lines.isHigh(10))
        XCTAssertEqual(driver.configRead(slot: 1, offset: 6, size: 2) & 0x8, 0x8, "PCI status: interrupt pending")
        // INTx disable masks the line but not the status.
        driver.configWrite(slot: 1, offset: 4, size: 2, value: 0x406)
        XCTAssertFalse(machine.lines.isHigh(10))
        XCTAssertEqual(driver.configRead(slot: 1, offset: 6, size: 2) & 0x8, 0x8)
        driver.configWrite(slot: 1, offset: 4, size: 2, value: 0x6)
        XCTAssertTrue(machine.lines.isHigh(10))
        XCTAssertEqual(driver.read(driver.isr, size: 1), 1, "queue interrupt")
        XCTAssertFalse(machine.lines.isHigh(10), "reading the ISR drops the line")
        XCTAssertEqual(driver.configRead(slot: 1, offset: 6, size: 2) & 0x8, 0)
        XCTAssertEqual(driver.read(driver.isr, size: 1), 0, "cleared")
        // The driver can ask for no interrupt.
        machine.memory.poke16(VirtioTestDriver.availableRing, 1)
        driver.submit(driver.blockRequest(type: VirtioBlock.RequestType.flush, sector: 0, dataLength: 0, deviceWritesData: false))
        driver.kick()
        XCTAssertEqual(driver.takeUsed().count, 2)
        XCTAssertFalse(machine.lines.isHigh(10))
        XCTAssertEqual(driver.read(driver.isr, size: 1), 0)
    }

    func testPCIConfigurationWindowReachesBAR4() throws {
        let machine = try VirtioTestMachine()
        let driver = machine.driver
        XCTAssertTrue(driver.probe())
        let window = try XCTUnwrap(driver.capabilities(slot: 1).first { $0.type == 5 }).position
        driver.configWrite(slot: 1, offset: window + 4, size: 1, value: 4)
        driver.configWrite(slot: 1, offset: window + 8, size: 4, value: 0x2000)  // capacity
        driver.configWrite(slot: 1, offset: window + 12, size: 4, value: 4)
        XCTAssertEqual(driver.configRead(slot: 1, offset: window + 16, size: 4), UInt32(VirtioTestMachine.sectors))
        // Writing through it: queue_select.
        driver.configWrite(slot: 1, offset: window + 8, size: 4, value: 0x16)
        driver.configWrite(slot: 1, offset: window + 12, size: 4, value: 2)
        driver.configWrite(slot: 1, offset: window + 16, size: 4, value: 7)
        XCTAssertEqual(driver.read(driver.common + 0x16, size: 2), 7)
        // A misaligned or oversized window reads 0 and writes nothing.
        driver.configWrite(slot: 1, offset: window + 8, size: 4, value: 0x15)
        XCTAssertEqual(driver.configRead(slot: 1, offset: window + 16, size: 4), 0)
        driver.configWrite(slot: 1, offset: window + 12, size: 4, value: 8)
        driver.configWrite(slot: 1, offset: window + 8, size: 4, value: 0x14)
        driver.configWrite(slot: 1, offset: window + 16, size: 4, value: 0)
        XCTAssertEqual(driver.status, 0x0f, "not reset through a bad window")
        driver.configWrite(slot: 1, offset: window + 4, size: 1, value: 0)
        driver.configWrite(slot: 1, offset: window + 12, size: 4, value: 1)
        XCTAssertEqual(driver.configRead(slot: 1, offset: window + 16, size: 4), 0, "BAR 0 is no virtio BAR")
        XCTAssertTrue(machine.function.log.drain().contains { $0.contains("invalid window") })
    }

    func testNotificationsTheDeviceCannotServeAreDropped() throws {
        let machine = try VirtioTestMachine()
        let driver = machine.driver
        XCTAssertTrue(driver.findDevice())
        XCTAssertNotNil(driver.negotiate())
        driver.setUpQueue()
        driver.submit(driver.blockRequest(type: VirtioBlock.RequestType.flush, sector: 0, dataLength: 0, deviceWritesData: false))
        driver.kick()  // before DRIVER_OK
        XCTAssertTrue(driver.takeUsed().isEmpty)
        driver.kick(queue: 1)  // no such queue
        driver.write(driver.notifyBase + 2, size: 2, 0)  // between queues
        // Bus mastering off: the device cannot reach memory.
        driver.configWrite(slot: 1, offset: 4, size: 2, value: 0x2)
        driver.driverOK()
        driver.kick()
        XCTAssertTrue(driver.takeUsed().isEmpty)
        driver.configWrite(slot: 1, offset: 4, size: 2, value: 0x6)
        driver.kick()
        XCTAssertEqual(driver.takeUsed().count, 1, "served once everything is in place")
        let log = machine.function.log.drain()
        XCTAssertTrue(log.contains { $0.contains("before DRIVER_OK") })
        XCTAssertTrue(log.contains { $0.contains("names no queue") })
        XCTAssertTrue(log.contains { $0.contains("bus mastering off") })
    }

    func testNotifyOnADisabledQueueIsDropped() throws {
        let machine = try VirtioTestMachine()
        let driver = machine.driver
        XCTAssertTrue(driver.findDevice())
        XCTAssertNotNil(driver.negotiate())
        driver.driverOK()
        XCTAssertEqual(driver.status, 0x0f)
        driver.kick()
        XCTAssertEqual(machine.function.failure, nil)
        XCTAssertTrue(machine.function.log.drain().contains { $0.contains("disabled queue 0") })
        XCTAssertTrue(machine.memory.writes.isEmpty, "nothing written to guest memory")
    }

    func testChainsMadeAvailableBeforeDriverOKAreServedAtDriverOK() throws {
        let machine = try VirtioTestMachine()
        let driver = machine.driver
        XCTAssertTrue(driver.findDevice())
        XCTAssertNotNil(driver.negotiate())
        driver.setUpQueue()
        driver.submit(driver.blockRequest(type: VirtioBlock.RequestType.flush, sector: 0, dataLength: 0, deviceWritesData: false))
        XCTAssertTrue(driver.takeUsed().isEmpty)
        driver.driverOK()
        XCTAssertEqual(driver.takeUsed().count, 1)
        XCTAssertTrue(machine.lines.isHigh(machine.line))
    }

    func testBadQueueSetupStopsTheDeviceUntilReset() throws {
        let machine = try VirtioTestMachine()
        let driver = machine.driver
        XCTAssertTrue(driver.findDevice())
        XCTAssertNotNil(driver.negotiate())
        for size: UInt16 in [0, 3] {
            driver.setStatus(0)
            XCTAssertNotNil(driver.negotiate())
            driver.setUpQueue(size: size)
            XCTAssertEqual(driver.status & 64, 64, "DEVICE_NEEDS_RESET for size \(size)")
            XCTAssertEqual(machine.function.failure, .invalidQueueSize(queue: 0, size: UInt32(size), maximum: 256))
            XCTAssertEqual(driver.read(driver.common + 0x1c, size: 2), 0)
            XCTAssertFalse(machine.lines.isHigh(machine.line), "no configuration interrupt before DRIVER_OK")
        }
        // A ring beyond RAM once the driver runs: the configuration interrupt comes.
        driver.setStatus(0)
        XCTAssertEqual(machine.function.failure, nil)
        XCTAssertNotNil(driver.negotiate())
        driver.driverOK()
        driver.write(driver.common + 0x16, size: 2, 0)
        driver.write(driver.common + 0x30, size: 8, machine.memory.size - 8)
        driver.write(driver.common + 0x20, size: 8, VirtioTestDriver.descriptorTable)
        driver.write(driver.common + 0x28, size: 8, VirtioTestDriver.availableRing)
        driver.write(driver.common + 0x1c, size: 2, 1)
        XCTAssertEqual(driver.status & 64, 64)
        XCTAssertTrue(machine.lines.isHigh(machine.line))
        XCTAssertEqual(driver.read(driver.isr, size: 1), 2, "configuration change")
        guard case .ringOutsideMemory(0, .usedRing, _, _) = machine.function.failure else {
            return XCTFail("\(String(describing: machine.function.failure))")
        }
        XCTAssertTrue(machine.function.log.drain().contains { $0.contains("used ring (device area)") && $0.contains("needs reset") })
        XCTAssertTrue(driver.probe(), "the device works again after a reset")
    }

    func testQueueSetupBeforeFeaturesOKIsIgnored() throws {
        let machine = try VirtioTestMachine()
        let driver = machine.driver
        XCTAssertTrue(driver.findDevice())
        driver.setStatus(0)
        driver.setStatus(3)
        driver.setUpQueue()
        XCTAssertEqual(driver.read(driver.common + 0x1c, size: 2), 0)
        XCTAssertTrue(machine.function.log.drain().contains { $0.contains("before FEATURES_OK") })
    }
}
