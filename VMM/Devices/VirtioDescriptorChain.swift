/// One buffer of a descriptor chain, already checked to lie inside guest memory.
public struct VirtioBuffer: Equatable {
    public let address: UInt64
    public let length: UInt32
}

/// A descriptor chain as the device sees it after walking it (§2.7.5): the device-readable buffers, then the
/// device-writable ones, each checked against guest memory. Requests are framed by byte offsets into the
/// readable or writable part, never by descriptor boundaries (§2.6.4: a driver may split a request anywhere).
public struct VirtioDescriptorChain {
    public let head: UInt16
    public private(set) var readable: [VirtioBuffer] = []
    public private(set) var writable: [VirtioBuffer] = []
    public private(set) var readableLength: UInt64 = 0
    public private(set) var writableLength: UInt64 = 0

    init(head: UInt16) { self.head = head }

    mutating func append(_ buffer: VirtioBuffer, deviceWritable: Bool) {
        if deviceWritable {
            writable.append(buffer)
            writableLength &+= UInt64(buffer.length)
        } else {
            readable.append(buffer)
            readableLength &+= UInt64(buffer.length)
        }
    }

    /// `count` bytes from `offset` into the readable part; nil when that runs past its end or memory refuses.
    public func read(at offset: UInt64, count: Int, from memory: GuestPhysicalMemory) -> [UInt8]? {
        guard count >= 0, offset <= readableLength, UInt64(count) <= readableLength - offset else { return nil }
        var result: [UInt8] = []
        result.reserveCapacity(count)
        var skip = offset
        for buffer in readable where result.count < count {
            let length = UInt64(buffer.length)
            if skip >= length { skip -= length; continue }
            let take = min(length - skip, UInt64(count - result.count))
            guard let bytes = memory.read(buffer.address &+ skip, count: Int(take)) else { return nil }
            result += bytes
            skip = 0
        }
        return result
    }

    /// Writes `bytes` at `offset` into the writable part; false when that runs past its end or memory refuses.
    public func write(_ bytes: [UInt8], at offset: UInt64, to memory: GuestPhysicalMemory) -> Bool {
        guard offset <= writableLength, UInt64(bytes.count) <= writableLength - offset else { return false }
        var done = 0
        var skip = offset
        for buffer in writable where done < bytes.count {
            let length = UInt64(buffer.length)
            if skip >= length { skip -= length; continue }
            let take = Int(min(length - skip, UInt64(bytes.count - done)))
            guard memory.write(buffer.address &+ skip, Array(bytes[done..<(done + take)])) else { return false }
            done += take
            skip = 0
        }
        return true
    }
}
