import DeviceModels
import UserRuntime

/// What backs a Linux guest's virtio-blk disk (the manifest's choice): the `disk` module, read-only, or a `block`
/// service the VMM uses (`disk_service`), writable. Both reach their bytes through the EC serving the exit.
enum GuestDisk<P: UserPlatform> {
    case module(ModuleBlockStore<P>)
    case service(BlockServiceStore<P>)

    var store: VirtioBlockStore {
        switch self {
        case .module(let s): return s
        case .service(let s): return s
        }
    }

    /// See `PCMachine.bind`: the module is read through `platform`, the service called from its `utcb`.
    func bind(to platform: P, utcb: UInt64) {
        switch self {
        case .module(let s): s.platform = platform
        case .service(let s): s.bind(to: platform, utcb: utcb)
        }
    }

    /// Why service requests failed since the last call, as log lines.
    func takeDiagnostics() -> [String] {
        guard case .service(let s) = self else { return [] }
        return s.takeFailures().map { "disk service: " + $0 }
    }
}
