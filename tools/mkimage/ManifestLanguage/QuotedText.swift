/// User text inside a message: quoted, with everything but printable ASCII escaped, and cut to a bounded length,
/// so a name cannot forge a second diagnostic line, send terminal escape sequences, or make a message huge.
public enum QuotedText {
    /// Characters of user text shown in a message; longer text is cut and its length given.
    public static let maxShown = 64

    /// `'text'` escaped and cut: `'a\nb'`, `'\u{1b}[31m'`, `'xxxx...' (10485760 characters)`.
    public static func quote(_ text: String) -> String { "'" + escaped(text, quote: "'") + "'" }

    /// The escaped, cut text without the quotes, for messages that show it inside other brackets
    /// (`[name]`, `"name"`); `quote` is the quote character those brackets need escaped.
    public static func escaped(_ text: String, quote: Unicode.Scalar) -> String {
        var shown = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count == maxShown { return shown + "... (\(text.unicodeScalars.count) characters)" }
            shown += escape(scalar, quote: quote)
            count += 1
        }
        return shown
    }

    /// A single character as a message shows it: `'x'`, `'\n'`, `'\u{1b}'`.
    public static func quote(_ scalar: Unicode.Scalar) -> String { "'" + escape(scalar, quote: "'") + "'" }

    /// Escapes control and non-ASCII characters in text that is not user input (a whole message), so no
    /// diagnostic can ever span two lines or carry a terminal escape, whatever a check forgot to quote.
    public static func sanitize(_ message: String) -> String {
        guard message.unicodeScalars.contains(where: { !isPrintableASCII($0) }) else { return message }
        var result = ""
        for scalar in message.unicodeScalars { result += escape(scalar, quote: nil) }
        return result
    }

    static func escape(_ scalar: Unicode.Scalar, quote: Unicode.Scalar?) -> String {
        switch scalar {
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        case "\\" where quote != nil: return "\\\\"
        default:
            if scalar == quote { return "\\" + String(scalar) }
            if isPrintableASCII(scalar) { return String(scalar) }
            return "\\u{" + String(scalar.value, radix: 16) + "}"
        }
    }

    static func isPrintableASCII(_ scalar: Unicode.Scalar) -> Bool { scalar.value >= 0x20 && scalar.value < 0x7f }
}
