import XCTest
@testable import DeviceModels

/// virtio-blk end to end: a Linux-like driver probes the bus, brings the device up and submits reads, writes,
/// flushes and GET_ID; the disk image, the used ring, the status bytes and the interrupt line are checked.
final class VirtioBlockTests: XCTestCase {
    private typealias Request = VirtioBlock.RequestType
    private typealias Status = VirtioBlock.Status

    func testFullProbeReadWriteFlushAndGetID() throws {
        let machine = try VirtioTestMachine()
        let driver = machine.driver
        XCTAssertTrue(driver.probe())
        // Device configuration as virtio_blk reads it.
        XCTAssertEqual(driver.read(driver.deviceConfiguration + 0x00, size: 4), UInt64(VirtioTestMachine.sectors))
        XCTAssertEqual(driver.read(driver.deviceConfiguration + 0x04, size: 4), 0)
        XCTAssertEqual(driver.read(driver.deviceConfiguration + 0x0c, size: 4), 254, "seg_max")
        XCTAssertEqual(driver.read(driver.deviceConfiguration + 0x14, size: 4), 512, "blk_size")
        XCTAssertEqual(driver.read(driver.deviceConfiguration + 0x15, size: 1), 2, "byte access")
        XCTAssertEqual(driver.read(driver.deviceConfiguration + 0x100, size: 4), 0, "past the structure")

        // Read sectors 3 and 4.
        let read = driver.submit(driver.blockRequest(type: Request.input, sector: 3, dataLength: 1024, deviceWritesData: true))
        XCTAssertFalse(machine.lines.isHigh(machine.line))
        driver.kick()
        XCTAssertTrue(machine.lines.isHigh(machine.line))
        XCTAssertEqual(driver.read(driver.isr, size: 1), 1)
        XCTAssertFalse(machine.lines.isHigh(machine.line))
        let used = driver.takeUsed()
        XCTAssertEqual(used.count, 1)
        XCTAssertEqual(used.first?.id, UInt32(read))
        XCTAssertEqual(used.first?.length, 1025, "data and status byte")
        XCTAssertEqual(driver.statusByte(), Status.ok)
        XCTAssertEqual(driver.dataBytes(count: 1024), [UInt8](repeating: 3, count: 512) + [UInt8](repeating: 4, count: 512))

        // Write sector 10, then read it back through the device.
        let pattern = (0..<512).map { UInt8(truncatingIfNeeded: $0 * 7) }
        driver.submit(driver.blockRequest(type: Request.output, sector: 10, dataLength: 512, deviceWritesData: false,
                                          slot: 1, data: pattern))
        driver.kick()
        XCTAssertEqual(driver.takeUsed().first?.length, 1)
        XCTAssertEqual(driver.statusByte(slot: 1), Status.ok)
        XCTAssertEqual(machine.store.read(at: 10 * 512, count: 512), pattern)
        XCTAssertEqual(machine.store.read(at: 9 * 512, count: 512), [UInt8](repeating: 9, count: 512))
        XCTAssertEqual(machine.store.read(at: 11 * 512, count: 512), [UInt8](repeating: 11, count: 512))
        driver.submit(driver.blockRequest(type: Request.input, sector: 10, dataLength: 512, deviceWritesData: true, slot: 2))
        driver.kick()
        XCTAssertEqual(driver.takeUsed().first?.length, 513)
        XCTAssertEqual(driver.dataBytes(slot: 2, count: 512), pattern)

        // Flush and GET_ID.
        driver.submit(driver.blockRequest(type: Request.flush, sector: 0, dataLength: 0, deviceWritesData: false, slot: 3))
        driver.submit(driver.blockRequest(type: Request.getID, sector: 0, dataLength: 20, deviceWritesData: true, slot: 4))
        driver.kick()
        let batch = driver.takeUsed()
        XCTAssertEqual(batch.map { $0.length }, [1, 21])
        XCTAssertEqual(driver.statusByte(slot: 3), Status.ok)
        XCTAssertEqual(driver.statusByte(slot: 4), Status.ok)
        XCTAssertEqual(driver.dataBytes(slot: 4, count: 20), Array("disk-0".utf8) + [UInt8](repeating: 0, count: 14))
        XCTAssertNil(machine.function.failure)
        XCTAssertTrue(machine.function.log.drain().isEmpty)
    }

    func testDeviceWritesOnlyTheRequestsBuffersAndTheUsedRing() throws {
        let machine = try VirtioTestMachine()
        let driver = machine.driver
        XCTAssertTrue(driver.probe())
        machine.memory.forgetWrites()
        driver.submit(driver.blockRequest(type: Request.input, sector: 0, dataLength: 2048, deviceWritesData: true))
        driver.kick()
        let allowed = [VirtioTestDriver.data..<(VirtioTestDriver.data + 2048),
                       VirtioTestDriver.statuses..<(VirtioTestDriver.statuses + 1),
                       VirtioTestDriver.usedRing..<(VirtioTestDriver.usedRing + 6 + 8 * 256)]
        XCTAssertFalse(machine.memory.writes.isEmpty)
        for write in machine.memory.writes {
            XCTAssertTrue(allowed.contains { $0.contains(write.lowerBound) && write.upperBound <= $0.upperBound }, "\(write)")
        }
    }

    func testRequestsSplitAnywhereAndThroughIndirectTables() throws {
        let machine = try VirtioTestMachine()
        let driver = machine.driver
        XCTAssertTrue(driver.probe())
        // Header split in two, data in three uneven pieces, the status byte sharing the last data buffer.
        let header = VirtioTestDriver.headers
        machine.memory.poke32(header, Request.input)
        machine.memory.poke64(header + 8, 5)
        let table = VirtioTestDriver.indirectTables
        let pieces: [(UInt64, UInt32)] = [(0x5_0000, 100), (0x5_1000, 300), (0x5_2000, 113)]
        var descriptors = [VirtioTestDescriptor(address: header, length: 5, flags: 1, next: 1),
                           VirtioTestDescriptor(address: header + 5, length: 11, flags: 1, next: 2)]
        for (i, piece) in pieces.enumerated() {
            descriptors.append(VirtioTestDescriptor(address: piece.0, length: piece.1, flags: 2 | (i < 2 ? 1 : 0),
                                                    next: UInt16(3 + i)))
        }
        for (i, descriptor) in descriptors.enumerated() { machine.memory.poke(table + 16 * UInt64(i), descriptor.bytes) }
        let head = driver.submit([VirtioTestDescriptor(address: table, length: UInt32(16 * descriptors.count), flags: 4)])
        driver.kick()
        XCTAssertEqual(driver.takeUsed().first?.id, UInt32(head))
        let data = machine.memory.peek(0x5_0000, 100) + machine.memory.peek(0x5_1000, 300) + machine.memory.peek(0x5_2000, 112)
        XCTAssertEqual(data, [UInt8](repeating: 5, count: 512))
        XCTAssertEqual(machine.memory.peek(0x5_2000 + 112, 1), [Status.ok])
    }

    func testBadRequestsGetIOErrorOrUnsupported() throws {
        let machine = try VirtioTestMachine()
        let driver = machine.driver
        XCTAssertTrue(driver.probe())
        let last = UInt64(VirtioTestMachine.sectors - 1)
        let cases: [(type: UInt32, sector: UInt64, length: Int, writes: Bool, status: UInt8)] = [
            (Request.input, last, 1024, true, Status.ioError),                  // runs past the end
            (Request.input, UInt64(VirtioTestMachine.sectors), 512, true, Status.ioError),
            (Request.input, UInt64.max, 512, true, Status.ioError),             // sector * 512 would wrap
            (Request.input, 1 << 55, 512, true, Status.ioError),
            (Request.output, last, 1024, false, Status.ioError),
            (Request.output, 0, 100, false, Status.ioError),                    // not whole sectors
            (Request.input, 0, 513, true, Status.ioError),
            (Request.discard, 0, 16, false, Status.unsupported),
            (Request.writeZeroes, 0, 16, false, Status.unsupported),
            (0x7777, 0, 0, false, Status.unsupported),
            (Request.input, last, 512, true, Status.ok),                        // the last sector is fine
        ]
        let image = machine.store.read(at: 0, count: VirtioTestMachine.sectors * 512)
        for (i, request) in cases.enumerated() {
            driver.submit(driver.blockRequest(type: request.type, sector: request.sector, dataLength: request.length,
                                              deviceWritesData: request.writes, slot: 0))
            driver.kick()
            XCTAssertEqual(driver.takeUsed().count, 1, "case \(i)")
            XCTAssertEqual(driver.statusByte(), request.status, "case \(i)")
        }
        XCTAssertEqual(machine.store.read(at: 0, count: VirtioTestMachine.sectors * 512), image, "nothing written")
        XCTAssertNil(machine.function.failure, "I/O errors are answers, not failures")
    }

    func testReadOnlyDiskRefusesWrites() throws {
        let machine = try VirtioTestMachine(readOnly: true)
        let driver = machine.driver
        XCTAssertTrue(driver.findDevice())
        let offered = try XCTUnwrap(driver.negotiate())
        XCTAssertNotEqual(offered & VirtioBlock.Feature.readOnly, 0, "VIRTIO_BLK_F_RO offered")
        driver.setUpQueue()
        driver.driverOK()
        driver.submit(driver.blockRequest(type: Request.output, sector: 2, dataLength: 512, deviceWritesData: false,
                                          data: [UInt8](repeating: 0xaa, count: 512)))
        driver.kick()
        XCTAssertEqual(driver.statusByte(), Status.ioError)
        XCTAssertEqual(machine.store.read(at: 2 * 512, count: 512), [UInt8](repeating: 2, count: 512))
        driver.submit(driver.blockRequest(type: Request.input, sector: 2, dataLength: 512, deviceWritesData: true, slot: 1))
        driver.kick()
        XCTAssertEqual(driver.statusByte(slot: 1), Status.ok)
        XCTAssertEqual(driver.dataBytes(slot: 1, count: 512), [UInt8](repeating: 2, count: 512))
    }

    func testMalformedRequestsStopTheDevice() throws {
        let cases: [(String, [VirtioTestDescriptor])] = [
            ("no status byte", [VirtioTestDescriptor(address: VirtioTestDriver.headers, length: 16, flags: 0)]),
            ("short header", [VirtioTestDescriptor(address: VirtioTestDriver.headers, length: 8, flags: 0),
                              VirtioTestDescriptor(address: VirtioTestDriver.statuses, length: 1, flags: 2)]),
            ("descriptor past RAM", [VirtioTestDescriptor(address: VirtioTestDriver.headers, length: 16, flags: 0),
                                     VirtioTestDescriptor(address: 1 << 20, length: 512, flags: 2),
                                     VirtioTestDescriptor(address: VirtioTestDriver.statuses, length: 1, flags: 2)]),
        ]
        for (name, chain) in cases {
            let machine = try VirtioTestMachine()
            let driver = machine.driver
            XCTAssertTrue(driver.probe())
            driver.submit(chain)
            driver.kick()
            XCTAssertEqual(driver.status & 64, 64, name)
            XCTAssertNotNil(machine.function.failure, name)
            XCTAssertTrue(machine.lines.isHigh(machine.line), name)
            XCTAssertEqual(driver.read(driver.isr, size: 1), 2, name)
            XCTAssertTrue(driver.takeUsed().isEmpty, name)
            // Stopped: further notifications do nothing until a reset.
            driver.submit(driver.blockRequest(type: Request.flush, sector: 0, dataLength: 0, deviceWritesData: false))
            driver.kick()
            XCTAssertTrue(driver.takeUsed().isEmpty, name)
            XCTAssertTrue(driver.probe(), name)
            driver.submit(driver.blockRequest(type: Request.flush, sector: 0, dataLength: 0, deviceWritesData: false))
            driver.kick()
            XCTAssertEqual(driver.takeUsed().count, 1, name)
        }
    }

    func testALoopingChainStopsTheDeviceWithAClearMessage() throws {
        let machine = try VirtioTestMachine()
        let driver = machine.driver
        XCTAssertTrue(driver.probe())
        machine.memory.poke(VirtioTestDriver.descriptorTable, VirtioTestDescriptor(address: VirtioTestDriver.headers,
                                                                                   length: 16, flags: 1, next: 1).bytes)
        machine.memory.poke(VirtioTestDriver.descriptorTable + 16, VirtioTestDescriptor(address: VirtioTestDriver.headers,
                                                                                        length: 16, flags: 1, next: 0).bytes)
        driver.makeAvailable(head: 0)
        driver.kick()
        XCTAssertEqual(machine.function.failure, .chainTooLong(queue: 0, head: 0, limit: 256, indirect: false))
        let log = machine.function.log.drain()
        XCTAssertEqual(log, ["virtio 00:01.0: queue 0: chain at head 0 is longer than 256 descriptors (a loop) (device needs reset)"])
    }

    func testGetIDFitsTheBufferAndUnnamedDisksReadZeros() throws {
        let store = VirtioBlockMemoryStore(image: [UInt8](repeating: 0, count: 4096), readOnly: false)
        let named = VirtioBlock(store: store, serial: "a-serial-number-longer-than-twenty")
        XCTAssertEqual(named.serial.count, 20)
        let memory = VirtioTestMemory(size: 0x1000)
        let queue = try VirtioQueue(index: 0, maximumSize: 4)
        queue.descriptorTableAddress = 0x100
        queue.availableRingAddress = 0x200
        queue.usedRingAddress = 0x300
        try queue.enable(memory: memory, allowsIndirect: false)
        memory.poke32(0x800, Request.getID)
        memory.poke(0x100, VirtioTestDescriptor(address: 0x800, length: 16, flags: 1, next: 1).bytes)
        memory.poke(0x110, VirtioTestDescriptor(address: 0x900, length: 9, flags: 2).bytes)  // 8 bytes of ID + status
        memory.poke16(0x202, 1)
        let chain = try queue.nextChain(memory: memory)
        XCTAssertEqual(try named.process(chain, queue: 0, memory: memory), 9)
        XCTAssertEqual(memory.peek(0x900, 9), Array("a-serial".utf8) + [Status.ok])
        let unnamed = VirtioBlock(store: store)
        XCTAssertEqual(try unnamed.process(chain, queue: 0, memory: memory), 9)
        XCTAssertEqual(memory.peek(0x900, 9), [UInt8](repeating: 0, count: 8) + [Status.ok])
    }

    func testMemoryStoresBorrowAndOwnImages() throws {
        let owned = VirtioBlockMemoryStore(image: [1, 2, 3, 4], readOnly: false)
        XCTAssertEqual(owned.byteCount, 4)
        XCTAssertTrue(owned.write(at: 2, [9, 9]))
        XCTAssertEqual(owned.read(at: 0, count: 4), [1, 2, 9, 9])
        XCTAssertFalse(owned.write(at: 3, [1, 1]), "past the end")
        XCTAssertNil(owned.read(at: 3, count: 2))
        XCTAssertNil(owned.read(at: UInt64.max, count: 2))
        XCTAssertNil(owned.read(at: 0, count: -1))
        XCTAssertEqual(owned.read(at: 4, count: 0), [])

        let region = UnsafeMutableRawBufferPointer.allocate(byteCount: 1024, alignment: 16)
        defer { region.deallocate() }
        region.initializeMemory(as: UInt8.self, repeating: 0x5a)
        let borrowed = VirtioBlockMemoryStore(borrowing: region, readOnly: false)
        XCTAssertTrue(borrowed.write(at: 1000, [1, 2, 3]))
        XCTAssertEqual(region[1001], 2, "writes go to the borrowed memory")
        let readOnly = VirtioBlockMemoryStore(borrowingReadOnly: UnsafeRawBufferPointer(region))
        XCTAssertTrue(readOnly.isReadOnly)
        XCTAssertFalse(readOnly.write(at: 0, [0]))
        XCTAssertEqual(region[0], 0x5a)
        XCTAssertEqual(readOnly.read(at: 1000, count: 3), [1, 2, 3])
        XCTAssertEqual(VirtioBlock(store: readOnly).capacity, 2)
        // A trailing partial sector is not reachable.
        XCTAssertEqual(VirtioBlock(store: VirtioBlockMemoryStore(image: [UInt8](repeating: 0, count: 1000), readOnly: true)).capacity, 1)
        let empty = VirtioBlockMemoryStore(image: [], readOnly: false)
        XCTAssertEqual(empty.read(at: 0, count: 0), [])
        XCTAssertTrue(empty.write(at: 0, []))
        XCTAssertFalse(empty.write(at: 0, [1]))
    }
}
