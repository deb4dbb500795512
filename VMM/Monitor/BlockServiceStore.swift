import BlockService
import DeviceModels
import KernelABI
import UserRuntime

/// The virtio disk's backing store when the manifest routes it to a `block` service (`disk_service`): one bounce
/// buffer of the VMM's own pages, attached to the driver once (again after every reconnection, `BlockSession`);
/// every guest request is copied between guest RAM and that buffer and served as block requests into it, one
/// buffer-full at a time. The driver's device DMAs only into the buffer, never into guest memory it does not hold.
/// Writable. Whatever the service answers other than success (a refusal, a device error, a driver that did not
/// come back in time) makes the access fail, which the device reports as VIRTIO_BLK_S_IOERR; the reason is kept
/// for the VMM's log (`takeFailures`).
///
/// Invariant: `bufferBytes` is a non-zero multiple of the sector size, at most what one block request may span and
/// what the driver said it holds; `byteCount` is the service's sector count times its (512-byte) sector size.
final class BlockServiceStore<P: UserPlatform>: VirtioBlockStore {
    let session: BlockSession<P>
    /// The buffer in the VMM: `bufferBytes` at `bufferAddress`.
    let bufferAddress: UInt64
    let bufferBytes: UInt64
    let byteCount: UInt64
    /// The EC running now (see `PCMachine.bind`); the session calls from its UTCB.
    private(set) var platform: P
    private var failures: [String] = []
    /// Failures kept for the log at most (a guest retrying a dead disk must not grow the VMM's heap).
    static var maxFailures: Int { 8 }

    var isReadOnly: Bool { false }

    private init(session: BlockSession<P>, platform: P, bufferAddress: UInt64, bufferBytes: UInt64, byteCount: UInt64) {
        self.session = session
        self.platform = platform
        self.bufferAddress = bufferAddress
        self.bufferBytes = bufferBytes
        self.byteCount = byteCount
    }

    /// Asks the service for its size and attaches the buffer (`1 << bufferOrder` pages at `bufferAddress`, which the
    /// session was made with). Fails, saying why, when the service does not answer, reports a sector size other
    /// than the virtio disk's, no sectors, or takes too little of the buffer.
    static func connect(session: BlockSession<P>, platform: P, bufferAddress: UInt64,
                        bufferOrder: UInt64) -> Result<BlockServiceStore<P>, DiskServiceError> {
        let disk: (sectors: UInt64, sectorSize: UInt64, maxInFlight: UInt64)
        switch session.info() {
        case .success(let d): disk = d
        case .failure(let f): return .failure(.service("info", f.description))
        }
        guard disk.sectorSize == VirtioBlock.sectorSize, disk.sectorSize == BlockProtocol.sectorSize else {
            return .failure(.sectorSize(disk.sectorSize))
        }
        guard disk.sectors > 0, disk.sectors <= UInt64.max / disk.sectorSize else { return .failure(.size(disk.sectors)) }
        let pages: UInt64
        switch session.attach() {
        case .success(let p): pages = p
        case .failure(let f): return .failure(.service("attach", f.description))
        }
        let bytes = min(pages, UInt64(1) << bufferOrder, BlockProtocol.maxRequestPages) << AddressLayout.pageShift
        guard bytes > 0 else { return .failure(.bufferRefused(pages)) }
        return .success(BlockServiceStore(session: session, platform: platform, bufferAddress: bufferAddress,
                                          bufferBytes: bytes, byteCount: disk.sectors * disk.sectorSize))
    }

    /// Calls from `utcb` (an address in the VMM) on `platform`: the EC serving this exit.
    func bind(to platform: P, utcb: UInt64) {
        self.platform = platform
        session.bind(to: UTCB(platform: platform, base: utcb))
    }

    func read(at offset: UInt64, count: Int) -> [UInt8]? {
        guard inside(offset, count) else { return nil }
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let piece = min(count - done, Int(bufferBytes))
            guard transfer(.read, at: offset + UInt64(done), bytes: piece) else { return nil }
            var i = 0
            while i < piece {
                let word = platform.load64(bufferAddress + UInt64(i))
                for b in 0..<8 { bytes[done + i + b] = UInt8(truncatingIfNeeded: word >> (8 * UInt64(b))) }
                i += 8
            }
            done += piece
        }
        return bytes
    }

    func write(at offset: UInt64, _ bytes: [UInt8]) -> Bool {
        guard inside(offset, bytes.count) else { return false }
        var done = 0
        while done < bytes.count {
            let piece = min(bytes.count - done, Int(bufferBytes))
            var i = 0
            while i < piece {
                var word: UInt64 = 0
                for b in 0..<8 { word |= UInt64(bytes[done + i + b]) << (8 * UInt64(b)) }
                platform.store64(bufferAddress + UInt64(i), word)
                i += 8
            }
            guard transfer(.write, at: offset + UInt64(done), bytes: piece) else { return false }
            done += piece
        }
        return true
    }

    func flush() -> Bool { transfer(.flush, at: 0, bytes: 0) }

    /// The reasons of the failures since the last call (oldest first), for the VMM's log.
    func takeFailures() -> [String] {
        defer { failures = [] }
        return failures
    }

    /// Whole sectors inside the disk (the device checks the same; a store refuses all else anyway).
    private func inside(_ offset: UInt64, _ count: Int) -> Bool {
        let sector = VirtioBlock.sectorSize
        return count >= 0 && offset % sector == 0 && UInt64(count) % sector == 0 && offset <= byteCount
            && UInt64(count) <= byteCount - offset
    }

    /// One block request on the buffer's first `bytes`, submitted and waited for.
    private func transfer(_ kind: BlockRequestKind, at offset: UInt64, bytes: Int) -> Bool {
        let sector = offset / VirtioBlock.sectorSize
        let request = BlockRequest(kind: kind, sector: kind == .flush ? 0 : sector,
                                   count: UInt64(bytes) / VirtioBlock.sectorSize, offset: 0)
        let outcome: Result<Void, BlockClient<P>.Failure>
        switch session.submit(request) {
        case .success(let tag): outcome = session.wait(tag)
        case .failure(let f): outcome = .failure(f)
        }
        guard case .failure(let f) = outcome else { return true }
        if failures.count < Self.maxFailures {
            failures.append(kind == .flush ? "flush: \(f)" : (kind == .read ? "read" : "write") + " of \(bytes) bytes at sector \(sector): \(f)")
        }
        return false
    }
}

/// Why a VM's disk service could not be used.
enum DiskServiceError: Error, CustomStringConvertible {
    case noRoute([UInt8])
    case service(String, String)
    case sectorSize(UInt64)
    case size(UInt64)
    case bufferRefused(UInt64)
    case noBuffer(needed: UInt64, have: UInt64)

    var description: String {
        switch self {
        case .noRoute(let name):
            return "the start info has no route '" + String(decoding: name, as: UTF8.self) + "' for the disk"
        case .service(let call, let why): return call + " failed: " + why
        case .sectorSize(let size):
            return "it has \(size)-byte sectors; the virtio disk serves \(VirtioBlock.sectorSize)-byte sectors"
        case .size(let sectors): return "it reports \(sectors) sectors"
        case .bufferRefused(let pages): return "the driver took \(pages) pages of the buffer"
        case .noBuffer(let needed, let have):
            return "its buffer does not fit the heap region (\(needed) bytes needed, \(have) given)"
        }
    }
}
