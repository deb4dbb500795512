/// A virtio block device (virtio 1.2, §5.2) over a byte store: one request queue; requests IN (read), OUT
/// (write), FLUSH and GET_ID, each answered with a status byte in the last writable byte of its chain. A request
/// that reaches past the disk or is not a whole number of sectors gets VIRTIO_BLK_S_IOERR, a write to a read-only
/// disk too (§5.2.6.2); any other type gets VIRTIO_BLK_S_UNSUPP. A chain too short to hold the header and the
/// status byte is malformed: the device stops (the transport sets DEVICE_NEEDS_RESET), as QEMU does.
public final class VirtioBlock: VirtioDevice {
    public static let sectorSize: UInt64 = 512
    public static let queueSize: UInt32 = 256
    /// Segments per request the driver may use: the queue minus the header and status descriptors.
    public static let segmentMaximum: UInt32 = queueSize - 2
    /// GET_ID answers with this many bytes (VIRTIO_BLK_ID_BYTES).
    public static let identifierLength = 20
    /// Copies between disk and guest go in pieces of at most this size, so a large request allocates little.
    static let copyChunk: UInt64 = 64 * 1024

    /// Feature bits of §5.2.3.
    public enum Feature {
        public static let sizeMaximum: UInt64 = 1 << 1
        public static let segmentMaximum: UInt64 = 1 << 2
        public static let geometry: UInt64 = 1 << 4
        public static let readOnly: UInt64 = 1 << 5
        public static let blockSize: UInt64 = 1 << 6
        public static let flush: UInt64 = 1 << 9
        public static let topology: UInt64 = 1 << 10
        public static let configWriteCache: UInt64 = 1 << 11
        public static let multiQueue: UInt64 = 1 << 12
        public static let discard: UInt64 = 1 << 13
        public static let writeZeroes: UInt64 = 1 << 14
    }

    public enum RequestType {
        public static let input: UInt32 = 0
        public static let output: UInt32 = 1
        public static let flush: UInt32 = 4
        public static let getID: UInt32 = 8
        public static let discard: UInt32 = 11
        public static let writeZeroes: UInt32 = 13
    }

    public enum Status {
        public static let ok: UInt8 = 0
        public static let ioError: UInt8 = 1
        public static let unsupported: UInt8 = 2
    }

    public let store: VirtioBlockStore
    /// The serial number GET_ID returns (at most 20 bytes, zero-padded).
    public let serial: [UInt8]
    /// Whole sectors only: a trailing partial sector of the image is not reachable.
    public var capacity: UInt64 { store.byteCount / Self.sectorSize }

    public init(store: VirtioBlockStore, serial: String = "") {
        self.store = store
        self.serial = Array(Array(serial.utf8).prefix(Self.identifierLength))
    }

    // MARK: - VirtioDevice

    public var deviceID: UInt16 { 2 }
    /// Mass storage, SCSI controller: the class QEMU gives virtio-blk.
    public var pciClassCode: UInt32 { 0x01_00_00 }
    public var features: UInt64 {
        Feature.segmentMaximum | Feature.blockSize | Feature.flush | (store.isReadOnly ? Feature.readOnly : 0)
    }
    public var queueSizes: [UInt32] { [Self.queueSize] }

    /// struct virtio_blk_config through num_queues: capacity, size_max (not offered), seg_max, geometry (not
    /// offered), blk_size, topology (not offered), writeback, num_queues.
    public var configuration: [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 0x24)
        func put(_ offset: Int, _ width: Int, _ value: UInt64) {
            for i in 0..<width { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        }
        put(0x00, 8, capacity)
        put(0x0c, 4, UInt64(Self.segmentMaximum))
        put(0x14, 4, Self.sectorSize)
        put(0x22, 2, 1)
        return bytes
    }

    /// Nothing is writable without VIRTIO_BLK_F_CONFIG_WCE, which is not offered.
    public func writeConfiguration(offset: Int, bytes: [UInt8]) -> Bool { false }

    public func reset() {}

    public func process(_ chain: VirtioDescriptorChain, queue: Int, memory: GuestPhysicalMemory) throws(VirtioError)
        -> UInt32 {
        guard chain.readableLength >= 16 else {
            throw .malformedRequest(queue: queue, head: chain.head,
                                    reason: "\(chain.readableLength) readable bytes, the header needs 16")
        }
        guard chain.writableLength >= 1 else {
            throw .malformedRequest(queue: queue, head: chain.head, reason: "no writable byte for the status")
        }
        guard let header = chain.read(at: 0, count: 16, from: memory) else {
            throw .bufferAccessFailed(queue: queue, head: chain.head)
        }
        let type = UInt32(truncatingIfNeeded: VirtioQueue.little(header, 0, 4))
        let sector = VirtioQueue.little(header, 8, 8)
        let statusOffset = chain.writableLength - 1

        var status = Status.ok
        var written: UInt64 = 0
        switch type {
        case RequestType.input:
            if let length = checkedRange(sector: sector, length: statusOffset) {
                status = try copyToGuest(chain, from: sector * Self.sectorSize, length: length, queue: queue,
                                         memory: memory)
                if status == Status.ok { written = length }
            } else {
                status = Status.ioError
            }
        case RequestType.output:
            if store.isReadOnly {
                status = Status.ioError
            } else if let length = checkedRange(sector: sector, length: chain.readableLength - 16) {
                status = try copyToDisk(chain, to: sector * Self.sectorSize, length: length, queue: queue,
                                        memory: memory)
            } else {
                status = Status.ioError
            }
        case RequestType.flush:
            status = store.flush() ? Status.ok : Status.ioError
        case RequestType.getID:
            var identifier = serial + [UInt8](repeating: 0, count: Self.identifierLength - serial.count)
            identifier = Array(identifier.prefix(Int(min(statusOffset, UInt64(Self.identifierLength)))))
            guard chain.write(identifier, at: 0, to: memory) else {
                throw .bufferAccessFailed(queue: queue, head: chain.head)
            }
            written = UInt64(identifier.count)
        default:
            status = Status.unsupported
        }
        guard chain.write([status], at: statusOffset, to: memory) else {
            throw .bufferAccessFailed(queue: queue, head: chain.head)
        }
        return UInt32(truncatingIfNeeded: written + 1)
    }

    /// `length` if it is whole sectors and sectors `sector`... fit on the disk, else nil (an I/O error).
    private func checkedRange(sector: UInt64, length: UInt64) -> UInt64? {
        guard length % Self.sectorSize == 0, sector <= capacity,
              length <= (capacity - sector) * Self.sectorSize else { return nil }
        return length
    }

    private func copyToGuest(_ chain: VirtioDescriptorChain, from start: UInt64, length: UInt64, queue: Int,
                             memory: GuestPhysicalMemory) throws(VirtioError) -> UInt8 {
        var done: UInt64 = 0
        while done < length {
            let count = min(Self.copyChunk, length - done)
            guard let bytes = store.read(at: start + done, count: Int(count)) else { return Status.ioError }
            guard chain.write(bytes, at: done, to: memory) else {
                throw .bufferAccessFailed(queue: queue, head: chain.head)
            }
            done += count
        }
        return Status.ok
    }

    private func copyToDisk(_ chain: VirtioDescriptorChain, to start: UInt64, length: UInt64, queue: Int,
                            memory: GuestPhysicalMemory) throws(VirtioError) -> UInt8 {
        var done: UInt64 = 0
        while done < length {
            let count = min(Self.copyChunk, length - done)
            guard let bytes = chain.read(at: 16 + done, count: Int(count), from: memory) else {
                throw .bufferAccessFailed(queue: queue, head: chain.head)
            }
            guard store.write(at: start + done, bytes) else { return Status.ioError }
            done += count
        }
        return Status.ok
    }
}
