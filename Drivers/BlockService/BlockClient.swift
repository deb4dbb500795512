import KernelABI
import UserRuntime

/// A client of a `block` service portal, calling from `utcb`.
public struct BlockClient<P: UserPlatform> {
    public let utcb: UTCB<P>
    public let portal: UInt64

    public init(utcb: UTCB<P>, portal: UInt64) {
        self.utcb = utcb
        self.portal = portal
    }

    public struct Failure: Error, Equatable, Sendable, CustomStringConvertible {
        public var status: Status
        public var reason: BlockRequestError?
        public var description: String { reason.map { "\($0) (\(status))" } ?? "\(status)" }
    }

    private func call(_ words: [UInt64], typed: [(CapabilityRange, UInt64)] = []) -> Result<[UInt64], Failure> {
        utcb.setMessage(untyped: words, typed: typed)
        let status = SystemCalls(utcb.platform).call(portal: portal)
        guard status == .success else { return .failure(Failure(status: status, reason: nil)) }
        let answer = Status(rawValue: utcb.data(0)) ?? .badState
        let count = utcb.untypedCount
        guard answer == .success else {
            return .failure(Failure(status: answer, reason: count >= 2 ? BlockRequestError(rawValue: utcb.data(1)) : nil))
        }
        return .success((1..<max(1, count)).map { utcb.data($0) })
    }

    public func info() -> Result<(sectors: UInt64, sectorSize: UInt64, maxInFlight: UInt64), Failure> {
        call([BlockOperation.info.rawValue]).map { w in
            (w.count > 0 ? w[0] : 0, w.count > 1 ? w[1] : 0, w.count > 2 ? w[2] : 0)
        }
    }

    /// How many requests the driver has seen complete, and how many of them it found only by polling.
    public func statistics() -> Result<(completions: UInt64, polled: UInt64), Failure> {
        call([BlockOperation.statistics.rawValue]).map { w in (w.count > 0 ? w[0] : 0, w.count > 1 ? w[1] : 0) }
    }

    /// Delegates `1 << order` pages at `virtualPage` (read/write) as the buffer; the pages the driver now holds.
    public func attach(virtualPage: UInt64, order: UInt64) -> Result<UInt64, Failure> {
        let item = CapabilityRange(kind: .memory, base: virtualPage, order: order,
                                   permissions: Permissions.read | Permissions.write)
        return call([BlockOperation.attach.rawValue], typed: [(item, BlockProtocol.bufferWindow >> AddressLayout.pageShift)])
            .map { $0.first ?? 0 }
    }

    public func submit(_ request: BlockRequest) -> Result<UInt64, Failure> {
        call([BlockOperation.submit.rawValue, request.kind.rawValue, request.sector, request.count, request.offset])
            .map { $0.first ?? 0 }
    }

    public func wait(_ tag: UInt64) -> Result<Void, Failure> {
        call([BlockOperation.wait.rawValue, tag]).map { _ in () }
    }
}
