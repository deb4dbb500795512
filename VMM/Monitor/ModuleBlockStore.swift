import DeviceModels
import UserRuntime

/// The virtio disk's backing store: the `disk` module the root task mapped read-only into the VMM
/// (`ComponentStartInfo.VirtualMachine.diskAddress`), read through the platform (the simulator has no raw pointers
/// into component memory). Read-only: the device then offers VIRTIO_BLK_F_RO and refuses writes with IOERR.
final class ModuleBlockStore<P: UserPlatform>: VirtioBlockStore {
    let platform: P
    let base: UInt64
    let byteCount: UInt64

    init(platform: P, base: UInt64, size: UInt64) {
        self.platform = platform
        self.base = base
        byteCount = size
    }

    var isReadOnly: Bool { true }

    func read(at offset: UInt64, count: Int) -> [UInt8]? {
        guard count >= 0, offset <= byteCount, UInt64(count) <= byteCount - offset else { return nil }
        var bytes = [UInt8](repeating: 0, count: count)
        for i in 0..<count { bytes[i] = platform.load8(base + offset + UInt64(i)) }
        return bytes
    }

    func write(at offset: UInt64, _ bytes: [UInt8]) -> Bool { false }
    func flush() -> Bool { true }
}
