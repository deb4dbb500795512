/// Where in a descriptor chain something went wrong: the chain's head and the descriptor's index in the
/// queue's table, or in the indirect table the chain leads to.
public struct VirtioDescriptorLocation: Equatable {
    public let head: UInt16
    public let index: Int
    public let indirect: Bool

    var text: String {
        indirect ? "indirect descriptor \(index) of the chain at head \(head)"
            : "descriptor \(index) (chain head \(head))"
    }
}

/// The three areas of a split virtqueue (§2.7).
public enum VirtioRingArea: Equatable {
    case descriptorTable, availableRing, usedRing

    var name: String {
        switch self {
        case .descriptorTable: return "descriptor table"
        case .availableRing: return "available ring (driver area)"
        case .usedRing: return "used ring (device area)"
        }
    }
}

/// A guest error a virtio device cannot serve past: the device sets DEVICE_NEEDS_RESET and stops (§2.1.2), and
/// the VMM logs `message`. Only that VM's device is affected.
public enum VirtioError: Error, Equatable {
    case invalidQueueSize(queue: Int, size: UInt32, maximum: UInt32)
    case misalignedRing(queue: Int, area: VirtioRingArea, address: UInt64, alignment: UInt64)
    case ringOutsideMemory(queue: Int, area: VirtioRingArea, address: UInt64, length: UInt64)
    case availableIndexJump(queue: Int, availableIndex: UInt16, lastSeen: UInt16, size: UInt16)
    case headOutOfRange(queue: Int, head: UInt16, size: UInt16)
    case nextOutOfRange(queue: Int, at: VirtioDescriptorLocation, next: UInt16, tableSize: Int)
    case bufferOutsideMemory(queue: Int, at: VirtioDescriptorLocation, address: UInt64, length: UInt32)
    case chainTooLong(queue: Int, head: UInt16, limit: Int, indirect: Bool)
    case indirectNotNegotiated(queue: Int, at: VirtioDescriptorLocation)
    case nestedIndirect(queue: Int, at: VirtioDescriptorLocation)
    case indirectWithNext(queue: Int, at: VirtioDescriptorLocation)
    case indirectTableLength(queue: Int, at: VirtioDescriptorLocation, length: UInt32, limit: Int)
    case readableAfterWritable(queue: Int, at: VirtioDescriptorLocation)
    case usedRingWriteFailed(queue: Int, address: UInt64)
    case bufferAccessFailed(queue: Int, head: UInt16)
    case malformedRequest(queue: Int, head: UInt16, reason: String)
    case queueDisabled(queue: Int)
    case deviceSetup(String)

    public var message: String {
        switch self {
        case .invalidQueueSize(let queue, let size, let maximum):
            return "queue \(queue): size \(size) is not a power of two in 1...\(maximum)"
        case .misalignedRing(let queue, let area, let address, let alignment):
            return "queue \(queue): \(area.name) at \(Self.hex(address)) is not \(alignment)-byte aligned"
        case .ringOutsideMemory(let queue, let area, let address, let length):
            return "queue \(queue): \(area.name) at \(Self.hex(address)), \(Self.hex(length)) bytes, lies outside guest memory"
        case .availableIndexJump(let queue, let index, let lastSeen, let size):
            return "queue \(queue): available index \(index) is more than the queue size \(size) ahead of \(lastSeen)"
        case .headOutOfRange(let queue, let head, let size):
            return "queue \(queue): available ring names head \(head), beyond the queue size \(size)"
        case .nextOutOfRange(let queue, let at, let next, let tableSize):
            return "queue \(queue): \(at.text) chains to \(next), beyond its table of \(tableSize)"
        case .bufferOutsideMemory(let queue, let at, let address, let length):
            return "queue \(queue): \(at.text) buffer at \(Self.hex(address)), \(Self.hex(UInt64(length))) bytes, lies outside guest memory"
        case .chainTooLong(let queue, let head, let limit, let indirect):
            return "queue \(queue): chain at head \(head) is longer than \(limit) descriptors"
                + (indirect ? " in its indirect table" : "") + " (a loop)"
        case .indirectNotNegotiated(let queue, let at):
            return "queue \(queue): \(at.text) is indirect but VIRTIO_F_INDIRECT_DESC was not negotiated"
        case .nestedIndirect(let queue, let at):
            return "queue \(queue): \(at.text) is indirect inside an indirect table"
        case .indirectWithNext(let queue, let at):
            return "queue \(queue): \(at.text) sets both INDIRECT and NEXT"
        case .indirectTableLength(let queue, let at, let length, let limit):
            return "queue \(queue): \(at.text) points to an indirect table of \(length) bytes (needs a multiple of 16, at most \(limit) entries)"
        case .readableAfterWritable(let queue, let at):
            return "queue \(queue): \(at.text) is device-readable after a device-writable one"
        case .usedRingWriteFailed(let queue, let address):
            return "queue \(queue): used ring write at \(Self.hex(address)) failed"
        case .bufferAccessFailed(let queue, let head):
            return "queue \(queue): guest memory refused a buffer access of the chain at head \(head)"
        case .malformedRequest(let queue, let head, let reason):
            return "queue \(queue): request at head \(head): \(reason)"
        case .queueDisabled(let queue):
            return "queue \(queue) used while disabled"
        case .deviceSetup(let reason):
            return "device setup: \(reason)"
        }
    }

    static func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
}
