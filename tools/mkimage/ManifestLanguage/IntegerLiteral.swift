/// Integers of the manifest language: decimal or `0x` hexadecimal, `_` between digits, and an optional size
/// suffix `K`, `M`, `G` or `T` (powers of 1024), e.g. `64M`, `0x1000`, `1_000`.
enum IntegerLiteral {
    /// The value of `text`, or a message saying what is wrong with it.
    static func parse(_ text: String) -> Result<UInt64, LiteralError> {
        if let value = plainValue(text) { return .success(value) }
        return parseInFull(text)
    }

    /// Every form and every error message; `parse` comes here for what `plainValue` does not take.
    static func parseInFull(_ text: String) -> Result<UInt64, LiteralError> {
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

    /// The value of the common forms, `4096`, `0x1000`, `64M`, read straight from the UTF-8 bytes; nil for
    /// anything else (signs, '_', other radixes, overflow, errors), which `parseInFull` then reads. Every text
    /// this accepts, `parseInFull` gives the same value.
    static func plainValue(_ text: String) -> UInt64? {
        var text = text
        return text.withUTF8 { b -> UInt64? in
            var i = 0, end = b.count
            var radix: UInt64 = 10
            if end > 2, b[0] == UInt8(ascii: "0"), b[1] == UInt8(ascii: "x") || b[1] == UInt8(ascii: "X") {
                radix = 16
                i = 2
            }
            var shift: UInt64 = 0
            switch end > i + 1 ? b[end - 1] : 0 {
            case UInt8(ascii: "K"): shift = 10
            case UInt8(ascii: "M"): shift = 20
            case UInt8(ascii: "G"): shift = 30
            case UInt8(ascii: "T"): shift = 40
            default: break
            }
            if shift > 0 { end -= 1 }
            guard i < end else { return nil }
            var value: UInt64 = 0
            while i < end {
                let c = b[i]
                let digit: UInt64
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt64(c - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f") where radix == 16: digit = UInt64(c - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F") where radix == 16: digit = UInt64(c - UInt8(ascii: "A") + 10)
                default: return nil
                }
                let (shifted, o1) = value.multipliedReportingOverflow(by: radix)
                let (sum, o2) = shifted.addingReportingOverflow(digit)
                guard !o1, !o2 else { return nil }
                value = sum
                i += 1
            }
            guard value <= UInt64.max >> shift else { return nil }
            return value << shift
        }
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
