/// How messages and DOT labels show byte counts and address ranges: "64M", "4K", "0x3f8-0x3ff".
enum SizeText {
    static func bytes(_ value: UInt64) -> String {
        for (shift, suffix) in [(UInt64(40), "T"), (30, "G"), (20, "M")] where value != 0 {
            if value % (1 << shift) == 0 { return "\(value >> shift)\(suffix)" }
        }
        if value < 1 << 20 { return value != 0 && value % 1024 == 0 ? "\(value >> 10)K" : "\(value) bytes" }
        // A large amount that is not whole megabytes: megabytes with two decimals, and the exact count.
        let hundredths = (value % (1 << 20)) * 100 / (1 << 20)
        return "\(value >> 20).\(hundredths < 10 ? "0" : "")\(hundredths)M (\(value) bytes)"
    }

    static func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }

    /// The inclusive range `start ... start + size - 1` in hex.
    static func range(_ start: UInt64, _ size: UInt64) -> String {
        size == 0 ? "\(hex(start)) (empty)" : "\(hex(start))-\(hex(start &+ (size - 1)))"
    }

    /// `value` rounded up to whole pages.
    static func pageRoundUp(_ value: UInt64) -> UInt64 {
        let page: UInt64 = 4096
        return value > UInt64.max - (page - 1) ? UInt64.max & ~(page - 1) : (value + page - 1) & ~(page - 1)
    }
}
