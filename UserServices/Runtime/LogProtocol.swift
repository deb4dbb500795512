import KernelABI

/// The "log" service protocol: a call carries text; untyped word 0 is the byte count, words 1... hold the bytes,
/// eight per word, little-endian. The reply's untyped word 0 is a `Status` (`badRange` when the count does not fit
/// the message).
public enum LogProtocol {
    /// Bytes one call can carry.
    public static let maxBytes = (UTCBLayout.maxDataWords - 1) * 8

    /// Writes the request into the caller's UTCB.
    public static func setRequest<P: UserPlatform>(_ utcb: UTCB<P>, bytes: UnsafeBufferPointer<UInt8>) {
        let count = min(bytes.count, maxBytes)
        let words = (count + 7) / 8
        for w in 0..<words {
            var word: UInt64 = 0
            for b in 0..<8 where w * 8 + b < count { word |= UInt64(bytes[w * 8 + b]) << UInt64(8 * b) }
            utcb.setData(1 + w, word)
        }
        utcb.setData(0, UInt64(count))
        utcb.setWord(UTCBLayout.countsWord, UTCBLayout.counts(untyped: 1 + words, typed: 0))
    }

    /// Reads the text of a request from the handler's UTCB; nil when the count does not match the message.
    public static func request<P: UserPlatform>(_ utcb: UTCB<P>) -> [UInt8]? {
        guard utcb.untypedCount >= 1 else { return nil }
        let count = utcb.data(0)
        guard count <= UInt64(maxBytes), Int(count + 7) / 8 + 1 <= utcb.untypedCount else { return nil }
        var bytes: [UInt8] = []
        for i in 0..<Int(count) { bytes.append(UInt8(truncatingIfNeeded: utcb.data(1 + i / 8) >> UInt64(8 * (i % 8)))) }
        return bytes
    }
}

/// A client of a "log" service portal, calling from the UTCB `utcb` (the calling EC's).
public struct LogClient<P: UserPlatform> {
    public let utcb: UTCB<P>
    public let portal: UInt64

    public init(utcb: UTCB<P>, portal: UInt64) {
        self.utcb = utcb
        self.portal = portal
    }

    /// Sends `text` (split into as many calls as needed); returns the first failure.
    @discardableResult
    public func write(_ text: StaticString) -> Status {
        text.withUTF8Buffer { write(bytes: $0) }
    }

    @discardableResult
    public func write(_ text: String) -> Status {
        var copy = text
        return copy.withUTF8 { write(bytes: $0) }
    }

    @discardableResult
    public func write(bytes: UnsafeBufferPointer<UInt8>) -> Status {
        let sys = SystemCalls(utcb.platform)
        var offset = 0
        repeat {
            let n = min(LogProtocol.maxBytes, bytes.count - offset)
            LogProtocol.setRequest(utcb, bytes: UnsafeBufferPointer(rebasing: bytes[offset..<(offset + n)]))
            let status = sys.call(portal: portal)
            guard status == .success else { return status }
            let reply = Status(rawValue: utcb.data(0)) ?? .badState
            guard reply == .success else { return reply }
            offset += n
        } while offset < bytes.count
        return .success
    }
}
