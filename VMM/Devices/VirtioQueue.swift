/// A split virtqueue (virtio 1.2, §2.7) as the device side keeps it: where the driver put the descriptor table,
/// the available ring and the used ring, and how far the device has got. Every guest address it touches is
/// checked: the ring areas when the queue is enabled (and again on each access, since guest memory can have
/// holes), every descriptor's buffer when a chain is walked. A chain longer than its table is a loop.
/// Errors are returned, never trapped on; the transport turns them into DEVICE_NEEDS_RESET.
public final class VirtioQueue {
    /// The largest split queue (§2.7: "Queue Size ... maximum 32768").
    public static let largestSize: UInt32 = 32768
    static let descriptorSize: UInt64 = 16

    enum DescriptorFlag {
        static let next: UInt16 = 1
        static let write: UInt16 = 2
        static let indirect: UInt16 = 4
    }
    /// avail.flags bit 0: the driver asks for no interrupt (honoured; EVENT_IDX is not offered).
    static let availableNoInterrupt: UInt16 = 1

    public let index: Int
    public let maximumSize: UInt16
    /// What the driver wrote to queue_size and the ring addresses (validated when it enables the queue).
    public var size: UInt16
    public var descriptorTableAddress: UInt64 = 0
    public var availableRingAddress: UInt64 = 0
    public var usedRingAddress: UInt64 = 0

    /// The checked configuration the device serves from, fixed at enable: later writes to the fields above
    /// cannot change a running ring.
    private struct Ring {
        let size: UInt16
        let descriptorTable: UInt64
        let availableRing: UInt64
        let usedRing: UInt64
        let allowsIndirect: Bool
    }
    private var ring: Ring?
    public var isEnabled: Bool { ring != nil }
    public var allowsIndirect: Bool { ring?.allowsIndirect ?? false }
    /// The next available-ring entry the device will take, and the next used-ring entry it will fill.
    public private(set) var lastAvailableIndex: UInt16 = 0
    public private(set) var usedIndex: UInt16 = 0

    /// A queue of at most `maximumSize` entries (a power of two, 1...32768).
    public init(index: Int, maximumSize: UInt32) throws(VirtioError) {
        try Self.checkSize(maximumSize, maximum: Self.largestSize, queue: index)
        self.index = index
        self.maximumSize = UInt16(maximumSize)
        size = UInt16(maximumSize)
    }

    public static func checkSize(_ size: UInt32, maximum: UInt32, queue: Int) throws(VirtioError) {
        guard size != 0, size & (size &- 1) == 0, size <= maximum else {
            throw .invalidQueueSize(queue: queue, size: size, maximum: maximum)
        }
    }

    /// Back to the state after a device reset: disabled, size at the maximum, addresses zero.
    public func reset() {
        ring = nil
        size = maximumSize
        descriptorTableAddress = 0
        availableRingAddress = 0
        usedRingAddress = 0
        lastAvailableIndex = 0
        usedIndex = 0
    }

    /// The driver's queue_enable = 1: checks size, alignment and that the three areas lie in guest memory.
    public func enable(memory: GuestPhysicalMemory, allowsIndirect: Bool) throws(VirtioError) {
        try Self.checkSize(UInt32(size), maximum: UInt32(maximumSize), queue: index)
        let count = UInt64(size)
        try checkArea(.descriptorTable, descriptorTableAddress, length: Self.descriptorSize * count, alignment: 16,
                      memory: memory)
        try checkArea(.availableRing, availableRingAddress, length: 6 + 2 * count, alignment: 2, memory: memory)
        try checkArea(.usedRing, usedRingAddress, length: 6 + 8 * count, alignment: 4, memory: memory)
        ring = Ring(size: size, descriptorTable: descriptorTableAddress, availableRing: availableRingAddress,
                    usedRing: usedRingAddress, allowsIndirect: allowsIndirect)
        lastAvailableIndex = 0
        usedIndex = 0
    }

    private func checkArea(_ area: VirtioRingArea, _ address: UInt64, length: UInt64, alignment: UInt64,
                           memory: GuestPhysicalMemory) throws(VirtioError) {
        guard address & (alignment - 1) == 0 else {
            throw .misalignedRing(queue: index, area: area, address: address, alignment: alignment)
        }
        guard Self.fits(address, length, in: memory) else {
            throw .ringOutsideMemory(queue: index, area: area, address: address, length: length)
        }
    }

    static func fits(_ address: UInt64, _ length: UInt64, in memory: GuestPhysicalMemory) -> Bool {
        address <= memory.size && length <= memory.size - address
    }

    // MARK: - Serving the driver

    /// How many chains the driver has made available that the device has not taken (at most the queue size;
    /// 0 while the queue is disabled).
    public func pendingCount(memory: GuestPhysicalMemory) throws(VirtioError) -> Int {
        guard let ring else { return 0 }
        guard let availableIndex = memory.load16(ring.availableRing &+ 2) else {
            throw .ringOutsideMemory(queue: index, area: .availableRing, address: ring.availableRing &+ 2, length: 2)
        }
        let pending = availableIndex &- lastAvailableIndex
        guard pending <= ring.size else {
            throw .availableIndexJump(queue: index, availableIndex: availableIndex, lastSeen: lastAvailableIndex,
                                      size: ring.size)
        }
        return Int(pending)
    }

    /// Takes the next available chain and walks it. Call only while `pendingCount` says there is one.
    public func nextChain(memory: GuestPhysicalMemory) throws(VirtioError) -> VirtioDescriptorChain {
        guard let ring else { throw .queueDisabled(queue: index) }
        let entry = ring.availableRing &+ 4 &+ 2 * UInt64(lastAvailableIndex % ring.size)
        guard let head = memory.load16(entry) else {
            throw .ringOutsideMemory(queue: index, area: .availableRing, address: entry, length: 2)
        }
        lastAvailableIndex &+= 1
        return try walk(head: head, ring: ring, memory: memory)
    }

    private func walk(head: UInt16, ring: Ring, memory: GuestPhysicalMemory) throws(VirtioError)
        -> VirtioDescriptorChain {
        let size = ring.size
        guard head < size else { throw .headOutOfRange(queue: index, head: head, size: size) }
        var chain = VirtioDescriptorChain(head: head)
        var table = ring.descriptorTable
        var tableSize = Int(size)
        var position = Int(head)
        var inIndirect = false
        var visited = 0
        while true {
            let at = VirtioDescriptorLocation(head: head, index: position, indirect: inIndirect)
            visited += 1
            guard visited <= tableSize else {
                throw .chainTooLong(queue: index, head: head, limit: tableSize, indirect: inIndirect)
            }
            let descriptorAddress = table &+ Self.descriptorSize * UInt64(position)
            guard let raw = memory.read(descriptorAddress, count: Int(Self.descriptorSize)), raw.count == 16 else {
                throw .ringOutsideMemory(queue: index, area: .descriptorTable, address: descriptorAddress,
                                         length: Self.descriptorSize)
            }
            let address = Self.little(raw, 0, 8)
            let length = UInt32(truncatingIfNeeded: Self.little(raw, 8, 4))
            let flags = UInt16(truncatingIfNeeded: Self.little(raw, 12, 2))
            let next = UInt16(truncatingIfNeeded: Self.little(raw, 14, 2))

            if flags & DescriptorFlag.indirect != 0 {
                guard ring.allowsIndirect else { throw .indirectNotNegotiated(queue: index, at: at) }
                guard !inIndirect else { throw .nestedIndirect(queue: index, at: at) }
                guard flags & DescriptorFlag.next == 0 else { throw .indirectWithNext(queue: index, at: at) }
                // Linux sizes indirect tables by the request's segments, which seg_max keeps within the queue.
                guard length != 0, length % 16 == 0, Int(length / 16) <= Int(size) else {
                    throw .indirectTableLength(queue: index, at: at, length: length, limit: Int(size))
                }
                guard Self.fits(address, UInt64(length), in: memory) else {
                    throw .bufferOutsideMemory(queue: index, at: at, address: address, length: length)
                }
                table = address
                tableSize = Int(length / 16)
                position = 0
                inIndirect = true
                visited = 0
                continue
            }
            guard Self.fits(address, UInt64(length), in: memory) else {
                throw .bufferOutsideMemory(queue: index, at: at, address: address, length: length)
            }
            let deviceWritable = flags & DescriptorFlag.write != 0
            guard deviceWritable || chain.writable.isEmpty else { throw .readableAfterWritable(queue: index, at: at) }
            chain.append(VirtioBuffer(address: address, length: length), deviceWritable: deviceWritable)
            guard flags & DescriptorFlag.next != 0 else { return chain }
            guard Int(next) < tableSize else {
                throw .nextOutOfRange(queue: index, at: at, next: next, tableSize: tableSize)
            }
            position = Int(next)
        }
    }

    /// Returns a chain to the driver: used-ring entry (id = head, len = bytes written), then the used index.
    public func addUsed(head: UInt16, length: UInt32, memory: GuestPhysicalMemory) throws(VirtioError) {
        guard let ring else { throw .queueDisabled(queue: index) }
        let entry = ring.usedRing &+ 4 &+ 8 * UInt64(usedIndex % ring.size)
        guard memory.store32(entry, UInt32(head)), memory.store32(entry &+ 4, length) else {
            throw .usedRingWriteFailed(queue: index, address: entry)
        }
        usedIndex &+= 1
        guard memory.store16(ring.usedRing &+ 2, usedIndex) else {
            throw .usedRingWriteFailed(queue: index, address: ring.usedRing &+ 2)
        }
    }

    /// Whether the driver wants an interrupt for new used entries (avail.flags without NO_INTERRUPT).
    public func wantsInterrupt(memory: GuestPhysicalMemory) throws(VirtioError) -> Bool {
        guard let ring else { return false }
        guard let flags = memory.load16(ring.availableRing) else {
            throw .ringOutsideMemory(queue: index, area: .availableRing, address: ring.availableRing, length: 2)
        }
        return flags & Self.availableNoInterrupt == 0
    }

    static func little(_ bytes: [UInt8], _ offset: Int, _ count: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in 0..<count { value |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        return value
    }
}
