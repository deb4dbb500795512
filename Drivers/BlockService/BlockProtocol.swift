import KernelABI
import UserRuntime

/// The `block` service: sector reads and writes straight between the device and pages the client delegated (no copy
/// through the driver), several requests in flight, flush, the device's size. Untyped words; the reply's word 0 is a
/// `Status`, word 1 (on failure) a `BlockRequestError` saying why.
///
///     info                                  -> status, sector count, sector size (bytes), requests in flight at most
///     attach + typed item (memory CRD)      -> status, pages   the buffer: the pages land at `bufferWindow` in the
///                                                              driver (once per driver run)
///     submit(kind, sector, count, offset)   -> status, tag     kind: `BlockRequestKind`; offset: bytes into the
///                                                              buffer; a flush takes sector 0, count 0, offset 0
///     wait(tag)                             -> status, device status (0 done)   blocks until the request completes
///     statistics                            -> status, completions, completions found only by polling after a
///                                              wait timed out (an interrupt that never came; 0 when they work)
/// One client per driver: the buffer and the tags are the caller's.
public enum BlockOperation: UInt64, Sendable {
    case info = 1, attach = 2, submit = 3, wait = 4, statistics = 5
}

public enum BlockRequestKind: UInt64, Sendable {
    case read = 0, write = 1, flush = 2
}

public enum BlockProtocol {
    /// Where a client's buffer lands in the driver: an aligned window of `1 << bufferOrder` pages.
    public static let bufferWindow: UInt64 = 0x0000_6400_0000_0000
    public static let bufferOrder: UInt64 = 6
    public static let sectorSize: UInt64 = 512
    public static let maxInFlight = 8
    /// Pages one request may span (each becomes one descriptor).
    public static let maxRequestPages: UInt64 = 16
}

/// Why a block request was refused (reply word 1) or failed.
public enum BlockRequestError: UInt64, Error, Equatable, Sendable, CustomStringConvertible {
    case malformed = 1, zeroLength, pastTheEnd, misaligned, tooLarge, noBuffer, bufferNotHeld, overlapping, queueFull,
         unknownTag, busy, deviceError, timeout, badKind,
         /// Client side only (`BlockSession`): the provider died and was not back in time.
         providerGone

    public var description: String {
        switch self {
        case .malformed: return "malformed request"
        case .zeroLength: return "zero sectors"
        case .pastTheEnd: return "past the end of the device"
        case .misaligned: return "buffer offset not a multiple of the sector size"
        case .tooLarge: return "more pages than one request may span"
        case .noBuffer: return "no buffer attached"
        case .bufferNotHeld: return "buffer range not held (outside the attached pages, or revoked)"
        case .overlapping: return "overlaps a request in flight"
        case .queueFull: return "too many requests in flight"
        case .unknownTag: return "no such request in flight"
        case .busy: return "requests are in flight"
        case .deviceError: return "the device reported an error"
        case .timeout: return "the device did not complete in time"
        case .badKind: return "unknown request kind"
        case .providerGone: return "the block service's provider is gone (not restarted in time)"
        }
    }
}

/// A request as the driver checks it.
public struct BlockRequest: Equatable, Sendable {
    public var kind: BlockRequestKind
    public var sector: UInt64
    public var count: UInt64
    public var offset: UInt64
    public init(kind: BlockRequestKind, sector: UInt64, count: UInt64, offset: UInt64) {
        self.kind = kind
        self.sector = sector
        self.count = count
        self.offset = offset
    }
    public var bytes: UInt64 { count * BlockProtocol.sectorSize }

    /// Checks against the device size, the attached buffer and the requests in flight; pure, for the host tests.
    public func check(sectors: UInt64, bufferBytes: UInt64?, inFlight: [BlockRequest]) -> BlockRequestError? {
        if kind == .flush {
            guard sector == 0, count == 0, offset == 0 else { return .malformed }
            return inFlight.count >= BlockProtocol.maxInFlight ? .queueFull : nil
        }
        guard count > 0 else { return .zeroLength }
        guard sector < sectors, count <= sectors - sector else { return .pastTheEnd }
        guard offset % BlockProtocol.sectorSize == 0 else { return .misaligned }
        guard count <= BlockProtocol.maxRequestPages * AddressLayout.pageSize / BlockProtocol.sectorSize else { return .tooLarge }
        guard let bufferBytes else { return .noBuffer }
        guard offset < bufferBytes, bytes <= bufferBytes - offset else { return .bufferNotHeld }
        for other in inFlight where other.kind != .flush {
            let buffers = offset < other.offset + other.bytes && other.offset < offset + bytes
            let sectorsMeet = sector < other.sector + other.count && other.sector < sector + count
            if buffers || (sectorsMeet && (kind == .write || other.kind == .write)) { return .overlapping }
        }
        return inFlight.count >= BlockProtocol.maxInFlight ? .queueFull : nil
    }
}
