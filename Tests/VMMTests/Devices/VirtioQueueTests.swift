import XCTest
@testable import DeviceModels

/// The split virtqueue against a fake guest memory: sizes, ring placement, chain walking and every way a
/// descriptor can point somewhere it must not.
final class VirtioQueueTests: XCTestCase {
    private let memory = VirtioTestMemory(size: 0x10_0000)
    private let table: UInt64 = 0x1000, available: UInt64 = 0x2000, used: UInt64 = 0x3000

    private func queue(size: UInt32 = 8, indirect: Bool = true) throws -> VirtioQueue {
        let queue = try VirtioQueue(index: 0, maximumSize: size)
        queue.descriptorTableAddress = table
        queue.availableRingAddress = available
        queue.usedRingAddress = used
        try queue.enable(memory: memory, allowsIndirect: indirect)
        return queue
    }

    private func put(_ index: Int, _ descriptor: VirtioTestDescriptor, in base: UInt64? = nil) {
        memory.poke((base ?? table) + 16 * UInt64(index), descriptor.bytes)
    }

    /// Makes `head` available as the next entry.
    private func offer(_ head: UInt16, _ queue: VirtioQueue) {
        let index = memory.peek16(available + 2)
        memory.poke16(available + 4 + 2 * UInt64(index % queue.size), head)
        memory.poke16(available + 2, index &+ 1)
    }

    private func walkError(_ queue: VirtioQueue, file: StaticString = #filePath, line: UInt = #line) -> VirtioError? {
        do {
            _ = try queue.nextChain(memory: memory)
            XCTFail("chain accepted", file: file, line: line)
            return nil
        } catch {
            XCTAssertFalse(error.message.isEmpty, file: file, line: line)
            return error
        }
    }

    func testQueueSizesMustBePowersOfTwoUpTo32768() throws {
        for size: UInt32 in [0, 3, 65536, 24, 32769] {
            XCTAssertThrowsError(try VirtioQueue(index: 2, maximumSize: size)) {
                XCTAssertEqual($0 as? VirtioError, .invalidQueueSize(queue: 2, size: size, maximum: 32768))
            }
        }
        XCTAssertEqual(try VirtioQueue(index: 0, maximumSize: 32768).maximumSize, 32768)
        // A driver-written size is checked against the device's maximum when the queue is enabled.
        let queue = try VirtioQueue(index: 1, maximumSize: 16)
        queue.descriptorTableAddress = table
        queue.availableRingAddress = available
        queue.usedRingAddress = used
        for size: UInt16 in [0, 3, 32] {
            queue.size = size
            XCTAssertThrowsError(try queue.enable(memory: memory, allowsIndirect: false)) {
                XCTAssertEqual($0 as? VirtioError, .invalidQueueSize(queue: 1, size: UInt32(size), maximum: 16))
            }
            XCTAssertFalse(queue.isEnabled)
        }
        queue.size = 4
        XCTAssertNoThrow(try queue.enable(memory: memory, allowsIndirect: false))
        XCTAssertTrue(queue.isEnabled)
    }

    func testRingAreasMustBeAlignedAndInsideMemory() throws {
        let queue = try VirtioQueue(index: 0, maximumSize: 8)
        queue.availableRingAddress = available
        queue.usedRingAddress = used
        queue.descriptorTableAddress = table + 8
        XCTAssertThrowsError(try queue.enable(memory: memory, allowsIndirect: false)) {
            XCTAssertEqual($0 as? VirtioError, .misalignedRing(queue: 0, area: .descriptorTable, address: table + 8, alignment: 16))
        }
        queue.descriptorTableAddress = memory.size - 64  // 8 descriptors need 128 bytes
        XCTAssertThrowsError(try queue.enable(memory: memory, allowsIndirect: false)) {
            XCTAssertEqual($0 as? VirtioError, .ringOutsideMemory(queue: 0, area: .descriptorTable,
                                                                  address: memory.size - 64, length: 128))
        }
        queue.descriptorTableAddress = table
        queue.usedRingAddress = 0xffff_ffff_ffff_fff0  // the length would wrap
        XCTAssertThrowsError(try queue.enable(memory: memory, allowsIndirect: false)) {
            guard case .ringOutsideMemory(_, .usedRing, _, _) = $0 as? VirtioError else { return XCTFail("\($0)") }
        }
        queue.usedRingAddress = used + 2
        XCTAssertThrowsError(try queue.enable(memory: memory, allowsIndirect: false)) {
            guard case .misalignedRing(_, .usedRing, _, 4) = $0 as? VirtioError else { return XCTFail("\($0)") }
        }
    }

    func testChainWithReadableThenWritableBuffers() throws {
        let queue = try self.queue()
        put(2, VirtioTestDescriptor(address: 0x8000, length: 16, flags: 1, next: 5))
        put(5, VirtioTestDescriptor(address: 0x9000, length: 100, flags: 1 | 2, next: 7))
        put(7, VirtioTestDescriptor(address: 0xa000, length: 1, flags: 2))
        offer(2, queue)
        XCTAssertEqual(try queue.pendingCount(memory: memory), 1)
        let chain = try queue.nextChain(memory: memory)
        XCTAssertEqual(chain.head, 2)
        XCTAssertEqual(chain.readable, [VirtioBuffer(address: 0x8000, length: 16)])
        XCTAssertEqual(chain.writable, [VirtioBuffer(address: 0x9000, length: 100), VirtioBuffer(address: 0xa000, length: 1)])
        XCTAssertEqual(chain.writableLength, 101)
        XCTAssertEqual(try queue.pendingCount(memory: memory), 0)
        // Gather and scatter across buffer boundaries.
        memory.poke(0x8000, Array(0..<16))
        XCTAssertEqual(chain.read(at: 4, count: 8, from: memory), Array(4..<12))
        XCTAssertNil(chain.read(at: 10, count: 7, from: memory), "past the readable part")
        XCTAssertTrue(chain.write([1, 2], at: 99, to: memory))
        XCTAssertEqual(memory.peek(0x9000 + 99, 1), [1])
        XCTAssertEqual(memory.peek(0xa000, 1), [2], "the rest continues in the next buffer")
        XCTAssertFalse(chain.write([1, 2], at: 100, to: memory), "past the writable part")
        XCTAssertFalse(chain.write([1], at: UInt64.max, to: memory))

        try queue.addUsed(head: chain.head, length: 101, memory: memory)
        XCTAssertEqual(memory.peek16(used + 2), 1)
        XCTAssertEqual(memory.peek32(used + 4), 2)
        XCTAssertEqual(memory.peek32(used + 8), 101)
        XCTAssertTrue(try queue.wantsInterrupt(memory: memory))
        memory.poke16(available, 1)  // VIRTQ_AVAIL_F_NO_INTERRUPT
        XCTAssertFalse(try queue.wantsInterrupt(memory: memory))
    }

    func testIndirectTable() throws {
        let queue = try self.queue()
        let indirect: UInt64 = 0x5000
        put(0, VirtioTestDescriptor(address: 0x8000, length: 16, flags: 1, next: 1), in: indirect)
        put(1, VirtioTestDescriptor(address: 0x9000, length: 512, flags: 1 | 2, next: 2), in: indirect)
        put(2, VirtioTestDescriptor(address: 0xa000, length: 1, flags: 2), in: indirect)
        put(3, VirtioTestDescriptor(address: indirect, length: 48, flags: 4))
        offer(3, queue)
        let chain = try queue.nextChain(memory: memory)
        XCTAssertEqual(chain.head, 3)
        XCTAssertEqual(chain.readableLength, 16)
        XCTAssertEqual(chain.writableLength, 513)
    }

    func testLoopsAndLongChainsAreErrors() throws {
        let queue = try self.queue()
        put(0, VirtioTestDescriptor(address: 0x8000, length: 4, flags: 1, next: 1))
        put(1, VirtioTestDescriptor(address: 0x8000, length: 4, flags: 1, next: 0))
        offer(0, queue)
        XCTAssertEqual(walkError(queue), .chainTooLong(queue: 0, head: 0, limit: 8, indirect: false))
        // A self loop inside an indirect table.
        let queue2 = try self.queue()
        memory.poke16(available + 2, 0)
        put(0, VirtioTestDescriptor(address: 0x5000, length: 32, flags: 4))
        put(1, VirtioTestDescriptor(address: 0x8000, length: 4, flags: 1, next: 1), in: 0x5000)
        put(0, VirtioTestDescriptor(address: 0x8000, length: 4, flags: 1, next: 1), in: 0x5000)
        offer(0, queue2)
        XCTAssertEqual(walkError(queue2), .chainTooLong(queue: 0, head: 0, limit: 2, indirect: true))
    }

    func testDescriptorIndexesOutOfRange() throws {
        let queue = try self.queue()
        offer(8, queue)
        XCTAssertEqual(walkError(queue), .headOutOfRange(queue: 0, head: 8, size: 8))
        put(1, VirtioTestDescriptor(address: 0x8000, length: 4, flags: 1, next: 9))
        offer(1, queue)
        XCTAssertEqual(walkError(queue), .nextOutOfRange(queue: 0, at: VirtioDescriptorLocation(head: 1, index: 1, indirect: false),
                                                         next: 9, tableSize: 8))
    }

    func testBuffersPastRAMOrWrappingAreErrors() throws {
        let queue = try self.queue()
        let cases: [(UInt64, UInt32)] = [(memory.size, 1), (memory.size - 4, 8), (0xffff_ffff_ffff_f000, 0x2000),
                                         (UInt64.max, 0xffff_ffff), (1 << 40, 16)]
        for (address, length) in cases {
            put(0, VirtioTestDescriptor(address: address, length: length, flags: 2))
            offer(0, queue)
            XCTAssertEqual(walkError(queue), .bufferOutsideMemory(
                queue: 0, at: VirtioDescriptorLocation(head: 0, index: 0, indirect: false), address: address, length: length))
        }
        // A zero-length buffer right at the end of RAM touches nothing and is fine.
        put(0, VirtioTestDescriptor(address: memory.size, length: 0, flags: 2))
        offer(0, queue)
        XCTAssertEqual(try queue.nextChain(memory: memory).writableLength, 0)
        // An indirect table past RAM.
        put(0, VirtioTestDescriptor(address: memory.size - 16, length: 32, flags: 4))
        offer(0, queue)
        guard case .bufferOutsideMemory = walkError(queue) else { return XCTFail() }
    }

    func testIndirectRulesAreEnforced() throws {
        let plain = try self.queue(indirect: false)
        put(0, VirtioTestDescriptor(address: 0x5000, length: 16, flags: 4))
        offer(0, plain)
        guard case .indirectNotNegotiated = walkError(plain) else { return XCTFail() }

        let queue = try self.queue()
        memory.poke16(available + 2, 0)
        put(0, VirtioTestDescriptor(address: 0x5000, length: 16, flags: 4 | 1, next: 1))
        offer(0, queue)
        guard case .indirectWithNext = walkError(queue) else { return XCTFail() }
        for length: UInt32 in [0, 24, 16 * 9] {
            put(0, VirtioTestDescriptor(address: 0x5000, length: length, flags: 4))
            offer(0, queue)
            XCTAssertEqual(walkError(queue), .indirectTableLength(
                queue: 0, at: VirtioDescriptorLocation(head: 0, index: 0, indirect: false), length: length, limit: 8))
        }
        put(0, VirtioTestDescriptor(address: 0x5000, length: 16, flags: 4))
        put(0, VirtioTestDescriptor(address: 0x6000, length: 16, flags: 4), in: 0x5000)
        offer(0, queue)
        guard case .nestedIndirect = walkError(queue) else { return XCTFail() }
    }

    func testReadableAfterWritableIsAnError() throws {
        let queue = try self.queue()
        put(0, VirtioTestDescriptor(address: 0x8000, length: 4, flags: 2 | 1, next: 1))
        put(1, VirtioTestDescriptor(address: 0x9000, length: 4, flags: 0))
        offer(0, queue)
        XCTAssertEqual(walkError(queue), .readableAfterWritable(queue: 0, at: VirtioDescriptorLocation(head: 0, index: 1, indirect: false)))
    }

    func testAvailableIndexMoreThanTheQueueAheadIsAnError() throws {
        let queue = try self.queue()
        memory.poke16(available + 2, 9)
        XCTAssertThrowsError(try queue.pendingCount(memory: memory)) {
            XCTAssertEqual($0 as? VirtioError, .availableIndexJump(queue: 0, availableIndex: 9, lastSeen: 0, size: 8))
        }
        memory.poke16(available + 2, 8)
        XCTAssertEqual(try queue.pendingCount(memory: memory), 8)
    }

    func testARunningRingKeepsTheConfigurationItWasEnabledWith() throws {
        let queue = try self.queue()
        put(1, VirtioTestDescriptor(address: 0x8000, length: 4, flags: 2))
        offer(1, queue)
        queue.size = 0
        queue.descriptorTableAddress = 0xdead_0000
        XCTAssertEqual(try queue.pendingCount(memory: memory), 1)
        XCTAssertEqual(try queue.nextChain(memory: memory).writable, [VirtioBuffer(address: 0x8000, length: 4)])
        XCTAssertNoThrow(try queue.addUsed(head: 1, length: 4, memory: memory))
        queue.reset()
        XCTAssertEqual(queue.size, 8)
        XCTAssertEqual(try queue.pendingCount(memory: memory), 0, "a disabled queue has nothing pending")
        XCTAssertFalse(try queue.wantsInterrupt(memory: memory))
        XCTAssertThrowsError(try queue.nextChain(memory: memory)) {
            XCTAssertEqual($0 as? VirtioError, .queueDisabled(queue: 0))
        }
        XCTAssertThrowsError(try queue.addUsed(head: 0, length: 0, memory: memory))
    }

    func testHolesInMemoryAreCaughtOnEveryAccess() throws {
        let queue = try self.queue()
        put(0, VirtioTestDescriptor(address: 0x8000, length: 4, flags: 2))
        offer(0, queue)
        memory.hole = table..<(table + 16)
        guard case .ringOutsideMemory(_, .descriptorTable, _, _) = walkError(queue) else { return XCTFail() }
        memory.hole = used..<(used + 16)
        XCTAssertThrowsError(try queue.addUsed(head: 0, length: 0, memory: memory)) {
            XCTAssertEqual($0 as? VirtioError, .usedRingWriteFailed(queue: 0, address: used + 4))
        }
        memory.hole = available..<(available + 4)
        XCTAssertThrowsError(try queue.pendingCount(memory: memory))
        XCTAssertThrowsError(try queue.wantsInterrupt(memory: memory))
    }
}
