import XCTest
@testable import DeviceModels

/// Seeded random abuse of the PCI function and the virtqueue. Replays exactly from its seed; a failure names it.
final class VirtioRandomizedTests: XCTestCase {
    /// SplitMix64: small, deterministic, good enough to pick offsets and flags.
    private struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
        /// A value in 0..<bound (the modulo bias does not matter here).
        mutating func below(_ bound: UInt64) -> UInt64 { next() % bound }
    }

    /// Random configuration-space and BAR 4 writes of every width, with a device that is sometimes set up.
    func testRandomConfigurationWritesKeepTheInvariants() throws {
        for seed: UInt64 in 1...20 {
            var random = Generator(state: seed)
            let machine = try VirtioTestMachine()
            let driver = machine.driver
            if seed % 2 == 0 { XCTAssertTrue(driver.probe(), "seed \(seed)") } else { XCTAssertTrue(driver.findDevice()) }
            let sizes = [1, 2, 4]
            for step in 0..<3000 {
                switch random.below(4) {
                case 0:
                    let offset = Int(random.below(256))
                    let size = sizes[Int(random.below(3))]
                    driver.configWrite(slot: Int(random.below(3)), offset: offset & ~(size - 1), size: size,
                                       value: UInt32(truncatingIfNeeded: random.next()))
                case 1:
                    let offset = random.below(0x4000)
                    driver.write(VirtioTestDriver.barAddress + offset, size: [1, 2, 4, 8][Int(random.below(4))],
                                 random.next())
                case 2:
                    _ = driver.read(VirtioTestDriver.barAddress + random.below(0x4000), size: 4)
                default:
                    // Mostly sensible status and queue traffic, so deeper states are reached.
                    driver.write(driver.common + 0x14, size: 1, [0, 1, 3, 11, 15][Int(random.below(5))])
                    driver.write(driver.common + 0x1c, size: 2, 1)
                    driver.kick()
                }
                let context = "seed \(seed) step \(step)"
                let space = machine.function.configurationSpace
                XCTAssertEqual(space.read(offset: 0, size: 4), 0x1042_1af4, context)
                XCTAssertEqual(space.read(offset: 8, size: 4), 0x0100_0001, context)
                XCTAssertEqual(space.read(offset: 0x3d, size: 1), 1, context)
                XCTAssertEqual(space.read(offset: 0x20, size: 4) & 0xf, 0x4, context)
                XCTAssertEqual(machine.lines.isHigh(10), machine.function.interruptAsserted, context)
                XCTAssertEqual(space.status & 0x8 != 0, machine.function.interruptStatus != 0, context)
                XCTAssertEqual(machine.function.deviceStatus & 64 != 0, machine.function.failure != nil, context)
                if machine.function.deviceStatus & 8 != 0 {
                    XCTAssertEqual(machine.function.driverFeatures & ~machine.function.offeredFeatures, 0, context)
                }
                XCTAssertEqual(machine.bus.mmioDevice(at: VirtioTestDriver.barAddress) != nil,
                               space.decodedRegion(4)?.base == VirtioTestDriver.barAddress, context)
                XCTAssertLessThanOrEqual(machine.function.log.messages.count, VirtioDiagnosticLog.capacity)
                if step % 500 == 0 { _ = machine.function.log.drain() }
            }
        }
    }

    /// Random descriptor tables, available rings and indirect tables behind a running device. The guest-physical
    /// layout puts the data area last, so a wild length runs off the end of RAM rather than over the rings;
    /// the device must then write only the data area and the used ring, keep the used ring consistent, and
    /// either serve everything made available or stop with DEVICE_NEEDS_RESET. Every other round is made of
    /// well-formed requests with random types, sectors, lengths and splits, which must all be served.
    func testRandomDescriptorTablesNeverEscapeTheirBuffers() throws {
        let dataStart: UInt64 = 0x4_0000, dataEnd: UInt64 = 1 << 20
        let indirectArea = VirtioTestDriver.indirectTables, indirectLength: UInt64 = 0x1000
        var failures = 0, served = 0
        for seed: UInt64 in 1...150 {
            var random = Generator(state: seed &* 7919)
            let machine = try VirtioTestMachine()
            let driver = machine.driver
            XCTAssertTrue(driver.findDevice())
            XCTAssertNotNil(driver.negotiate())
            let size = UInt16(1) << UInt16(random.below(5) + 2)  // 4...64
            driver.setUpQueue(size: size)
            driver.driverOK()
            let memory = machine.memory
            /// The device-writable buffers of this round's well-formed requests.
            var deviceWritable: [Range<UInt64>] = []

            func randomBuffer() -> (UInt64, UInt32) {
                switch random.below(10) {
                case 0: return (random.next(), UInt32(truncatingIfNeeded: random.next()))        // anything at all
                case 1: return (dataEnd - random.below(64), UInt32(random.below(256)))
                default: return (dataStart + random.below(dataEnd - dataStart), UInt32(random.below(4096)))
                }
            }
            func randomDescriptor(tableSize: UInt16, allowIndirect: Bool) -> VirtioTestDescriptor {
                if allowIndirect && random.below(6) == 0 {
                    let flags: UInt16 = 4 | (random.below(8) == 0 ? 1 : 0)
                    let length = random.below(8) == 0 ? UInt32(random.below(200)) : UInt32(16 * random.below(12))
                    return VirtioTestDescriptor(address: indirectArea + 16 * random.below(64), length: length, flags: flags)
                }
                if random.below(3) == 0 {
                    // A plausible request header, so the block device gets past framing now and then.
                    let header = dataStart + 16 * random.below(256)
                    memory.poke32(header, [0, 1, 4, 8, 11][Int(random.below(5))])
                    memory.poke64(header + 8, random.below(80))
                }
                let (address, length) = randomBuffer()
                return VirtioTestDescriptor(address: address, length: length, flags: UInt16(random.below(4)),
                                            next: UInt16(random.below(UInt64(tableSize) + 2)))
            }
            /// A well-formed request: header, optional data (readable for OUT), status; sometimes split or indirect.
            func wellFormedChain() -> [VirtioTestDescriptor] {
                let type = [0, 1, 4, 8, 11, 99][Int(random.below(6))] as UInt32
                let header = dataStart + 16 * random.below(256)
                memory.poke32(header, type)
                memory.poke32(header + 4, 0)
                memory.poke64(header + 8, random.below(70))
                let length = [0, 512, 1024, 100, 4096, 20][Int(random.below(6))] as UInt64
                let data = dataStart + 0x1000 + random.below(dataEnd - dataStart - 0x2000 - length)
                let status = dataStart + 0x1000 + random.below(dataEnd - dataStart - 0x2000)
                var chain = [VirtioTestDescriptor(address: header, length: 16, flags: 0)]
                if length > 0 {
                    let flags: UInt16 = type == 1 ? 0 : 2
                    let split = length > 1 && random.below(2) == 0 ? random.below(length - 1) + 1 : length
                    chain.append(VirtioTestDescriptor(address: data, length: UInt32(split), flags: flags))
                    if split < length {
                        chain.append(VirtioTestDescriptor(address: data + split, length: UInt32(length - split), flags: flags))
                    }
                }
                chain.append(VirtioTestDescriptor(address: status, length: 1, flags: 2))
                for descriptor in chain where descriptor.flags & 2 != 0 {
                    deviceWritable.append(descriptor.address..<(descriptor.address + UInt64(descriptor.length)))
                }
                return chain
            }

            for round in 0..<8 {
                let wellFormed = round % 2 == 1
                deviceWritable = []
                var count: UInt64 = 0
                if wellFormed {
                    while driver.nextDescriptor + 8 <= size && random.below(4) != 0 {
                        var chain = wellFormedChain()
                        if random.below(3) == 0 {
                            let table = indirectArea + 0x100 * count  // its own table (count < 16)
                            for (i, var descriptor) in chain.enumerated() {
                                if i + 1 < chain.count { descriptor.flags |= 1; descriptor.next = UInt16(i + 1) }
                                memory.poke(table + 16 * UInt64(i), descriptor.bytes)
                            }
                            chain = [VirtioTestDescriptor(address: table, length: UInt32(16 * chain.count), flags: 4)]
                        }
                        driver.submit(chain)
                        count += 1
                    }
                    driver.nextDescriptor = 0
                } else {
                    for i in 0..<Int(size) {
                        memory.poke(VirtioTestDriver.descriptorTable + 16 * UInt64(i),
                                    randomDescriptor(tableSize: size, allowIndirect: true).bytes)
                    }
                    // Indirect tables hold descriptors that are not indirect themselves... mostly.
                    for i in 0..<Int(indirectLength / 16) {
                        var descriptor = randomDescriptor(tableSize: 12, allowIndirect: false)
                        if random.below(50) == 0 { descriptor.flags |= 4 }
                        // Keep buffers out of the ring area so the write invariant below stays exact.
                        if descriptor.address < dataStart { descriptor.address = dataEnd + descriptor.address % 4096 }
                        memory.poke(indirectArea + 16 * UInt64(i), descriptor.bytes)
                    }
                    count = random.below(UInt64(size) + (random.below(10) == 0 ? 8 : 1))
                    for _ in 0..<count { driver.makeAvailable(head: UInt16(random.below(UInt64(size) + 1))) }
                }
                memory.forgetWrites()
                let usedBefore = memory.peek16(VirtioTestDriver.usedRing + 2)
                driver.kick()
                let context = "seed \(seed) round \(round)"
                let usedRing = VirtioTestDriver.usedRing..<(VirtioTestDriver.usedRing + 6 + 8 * UInt64(size))
                for write in memory.writes {
                    let inData = write.lowerBound >= dataStart && write.upperBound <= dataEnd
                    let inUsed = write.lowerBound >= usedRing.lowerBound && write.upperBound <= usedRing.upperBound
                    XCTAssertTrue(inData || inUsed, "\(context): write at \(write)")
                    if wellFormed && !inUsed {
                        XCTAssertTrue(deviceWritable.contains { $0.lowerBound <= write.lowerBound && write.upperBound <= $0.upperBound },
                                      "\(context): write at \(write) outside the requests' writable buffers")
                    }
                }
                let progress = memory.peek16(VirtioTestDriver.usedRing + 2) &- usedBefore
                XCTAssertLessThanOrEqual(UInt64(progress), count, context)
                for entry in driver.takeUsed() { XCTAssertLessThan(entry.id, UInt32(size), context) }
                if wellFormed {
                    XCTAssertNil(machine.function.failure, context)
                }
                if machine.function.failure != nil {
                    XCTAssertEqual(driver.status & 64, 64, context)
                    XCTAssertTrue(machine.lines.isHigh(10), context)
                    failures += 1
                    // The driver resets and starts over: the device must come back.
                    XCTAssertNotNil(driver.negotiate(), context)
                    XCTAssertNil(machine.function.failure, context)
                    driver.setUpQueue(size: size)
                    driver.driverOK()
                    XCTAssertEqual(driver.status, 0x0f, context)
                    continue
                }
                XCTAssertEqual(UInt64(progress), count, "\(context): all chains served")
                served += Int(progress)
                _ = driver.read(driver.isr, size: 1)
            }
        }
        XCTAssertGreaterThan(failures, 200, "the generator reaches the error paths")
        XCTAssertGreaterThan(served, 500, "the generator reaches the serving paths")
    }
}
