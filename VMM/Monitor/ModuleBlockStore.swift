import DeviceModels
import UserRuntime

/// The virtio disk's backing store: the `disk` module the root task mapped read-only into the VMM
/// (`ComponentStartInfo.VirtualMachine.diskAddress`), read through the platform (the simulator has no raw pointers
/// into component memory). Read-only: the device then offers VIRTIO_BLK_F_RO and refuses writes with IOERR.
final class ModuleBlockStore<P: UserPlatform>: VirtioBlockStore {
    /// The EC running now (see `PCMachine.bind`).
    var platform: P
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
        var i = 0
        // Whole words where aligned (a sector is 512 bytes): one access per 8 bytes, not per byte.
        while i < count {
            let at = base + offset + UInt64(i)
            if at & 7 == 0 && count - i >= 8 {
                let word = platform.load64(at)
                for b in 0..<8 { bytes[i + b] = UInt8(truncatingIfNeeded: word >> (8 * UInt64(b))) }
                i += 8
            } else {
                bytes[i] = platform.load8(at)
                i += 1
            }
        }
        return bytes
    }

    func write(at offset: UInt64, _ bytes: [UInt8]) -> Bool { false }
    func flush() -> Bool { true }
}
