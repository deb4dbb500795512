/// Integers of the manifest language: decimal or `0x` hexadecimal, `_` between digits, and an optional size
/// suffix `K`, `M`, `G` or `T` (powers of 1024), e.g. `64M`, `0x1000`, `1_000`.
enum IntegerLiteral {
    /// The value of `text`, or a message saying what is wrong with it.
    static func parse(_ text: String) -> Result<UInt64, LiteralError> {
        var digits = Substring(text)
        var multiplier: UInt64 = 1
        var radix: UInt64 = 10
        if digits.hasPrefix("-") { return .failure(LiteralError("negative numbers are not allowed: \(QuotedText.quote(text))")) }
        if digits.hasPrefix("+") { digits = digits.dropFirst() }
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") {
            radix = 16
            digits = digits.dropFirst(2)
        } else if digits.hasPrefix("0o") || digits.hasPrefix("0b") {
            return .failure(LiteralError("octal and binary numbers are not supported: \(QuotedText.quote(text)); use decimal or 0x hex"))
        }
        if radix == 10, digits.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) {
            return .failure(LiteralError("floating-point numbers are not supported: \(QuotedText.quote(text)); use an integer"))
        }
        if digits.contains(where: { $0 == ":" }) || (radix == 10 && digits.dropFirst().contains("-")) {
            return .failure(LiteralError("dates and times are not supported: \(QuotedText.quote(text))"))
        }
        let suffixStart = digits.firstIndex { !isDigit($0, radix: radix) && $0 != "_" } ?? digits.endIndex
        let suffix = digits[suffixStart...]
        digits = digits[..<suffixStart]
        switch suffix {
        case "": break
        case "K": multiplier = 1 << 10
        case "M": multiplier = 1 << 20
        case "G": multiplier = 1 << 30
        case "T": multiplier = 1 << 40
        default:
            return .failure(LiteralError(
                "invalid integer \(QuotedText.quote(text)): unknown suffix \(QuotedText.quote(String(suffix))); size suffixes are K, M, G and T (powers of 1024)"))
        }
        guard !digits.isEmpty, digits.first != "_", digits.last != "_", !digits.contains("__") else {
            return .failure(LiteralError("invalid integer \(QuotedText.quote(text)): expected digits" +
                                         (digits.isEmpty ? "" : " with single '_' only between them")))
        }
        var value: UInt64 = 0
        for c in digits where c != "_" {
            let (shifted, o1) = value.multipliedReportingOverflow(by: radix)
            let (sum, o2) = shifted.addingReportingOverflow(UInt64(c.hexDigitValue!))
            guard !o1, !o2 else { return .failure(LiteralError("integer \(QuotedText.quote(text)) is too large (the maximum is 2^64-1)")) }
            value = sum
        }
        let (scaled, overflow) = value.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { return .failure(LiteralError("integer \(QuotedText.quote(text)) is too large (the maximum is 2^64-1)")) }
        return .success(scaled)
    }

    static func isDigit(_ c: Character, radix: UInt64) -> Bool {
        guard let v = c.hexDigitValue, c.isASCII else { return false }
        return UInt64(v) < radix
    }

    struct LiteralError: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }
}
