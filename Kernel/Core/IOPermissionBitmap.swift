/// Which I/O ports a PD may touch: one bit per port, 65536 bits, as the TSS I/O bitmap wants them (0 = allowed).
/// It counts the allowed ports, so the kernel can tell "no ports" (the common case) on every entry at no cost.
public struct IOPermissionBitmap: Equatable, Sendable {
    /// Bit set = port allowed (the x86 platform inverts it for the TSS).
    public private(set) var allowedWords: [UInt64]
    /// How many bits of `allowedWords` are set.
    public private(set) var allowedCount = 0

    public init() { allowedWords = [UInt64](repeating: 0, count: 1024) }

    public func allows(_ port: UInt64) -> Bool {
        port < 65536 && allowedWords[Int(port >> 6)] & (1 << (port & 63)) != 0
    }
    public mutating func set(_ port: UInt64, allowed: Bool) {
        guard port < 65536, allows(port) != allowed else { return }
        if allowed {
            allowedWords[Int(port >> 6)] |= 1 << (port & 63)
            allowedCount += 1
        } else {
            allowedWords[Int(port >> 6)] &= ~(1 << (port & 63))
            allowedCount -= 1
        }
    }
    /// Whether all `count` ports from `port` are allowed.
    public func allowsAll(_ port: UInt64, count: UInt64) -> Bool {
        var p = port
        let end = port + count
        guard end <= 65536 else { return false }
        while p < end {
            if p & 63 == 0, end - p >= 64 {
                guard allowedWords[Int(p >> 6)] == ~0 else { return false }
                p += 64
            } else {
                guard allows(p) else { return false }
                p += 1
            }
        }
        return true
    }

    /// Sets `count` ports from `port` (an I/O capability's range), a word at a time where it can.
    public mutating func set(_ port: UInt64, count: UInt64, allowed: Bool) {
        var p = port
        let end = min(port + count, 65536)
        while p < end {
            if p & 63 == 0, end - p >= 64 {
                let word = allowedWords[Int(p >> 6)]
                let before = word.nonzeroBitCount
                allowedWords[Int(p >> 6)] = allowed ? ~0 : 0
                allowedCount += (allowed ? 64 : 0) - before
                p += 64
            } else {
                set(p, allowed: allowed)
                p += 1
            }
        }
    }
    public var isEmpty: Bool { allowedCount == 0 }
}
