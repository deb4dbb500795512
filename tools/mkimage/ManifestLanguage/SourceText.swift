/// The bytes of a manifest file checked before parsing: not too large, valid UTF-8 (the first bad byte is named
/// with its offset, line and column), and line ends that TOML knows (LF or CRLF; a lone CR is refused rather
/// than read as part of a one-line file).
enum SourceText {
    static func decode(_ bytes: [UInt8], file: String) -> Result<String, ManifestErrors> {
        guard bytes.count <= ManifestLimits.maxFileBytes else {
            return failure(file, SourceLocation(line: 1, column: 1),
                "the file is \(bytes.count) bytes; a manifest may have at most \(ManifestLimits.maxFileBytes) bytes")
        }
        var line = 1, column = 1, i = 0
        while i < bytes.count {
            let length = sequenceLength(bytes, at: i)
            guard length > 0 else {
                let shown = "0x" + String(bytes[i], radix: 16)
                return failure(file, SourceLocation(line: line, column: column),
                    "invalid UTF-8: byte \(shown) at offset \(i) does not start a valid character; save the file as UTF-8")
            }
            if bytes[i] == 0x0d, i + 1 >= bytes.count || bytes[i + 1] != 0x0a {
                return failure(file, SourceLocation(line: line, column: column),
                    "carriage return without a line feed (byte offset \(i)): CR-only line endings are not TOML; " +
                    "save the file with LF or CRLF line endings")
            }
            if bytes[i] == 0x0a {
                line += 1
                column = 1
            } else if bytes[i] != 0x0d {
                column += 1
            }
            i += length
        }
        return .success(String(decoding: bytes, as: UTF8.self))
    }

    private static func failure(_ file: String, _ location: SourceLocation, _ message: String) -> Result<String, ManifestErrors> {
        .failure(ManifestErrors(diagnostics: [Diagnostic(file: file, location, message)]))
    }

    /// The length of the well-formed UTF-8 sequence at `i`, or 0 (overlong forms, surrogates and values past
    /// U+10FFFF are not well-formed: Unicode table 3-7).
    static func sequenceLength(_ b: [UInt8], at i: Int) -> Int {
        let first = b[i]
        if first < 0x80 { return 1 }
        func continuation(_ k: Int, _ range: ClosedRange<UInt8> = 0x80...0xbf) -> Bool {
            i + k < b.count && range.contains(b[i + k])
        }
        switch first {
        case 0xc2...0xdf: return continuation(1) ? 2 : 0
        case 0xe0: return continuation(1, 0xa0...0xbf) && continuation(2) ? 3 : 0
        case 0xe1...0xec, 0xee...0xef: return continuation(1) && continuation(2) ? 3 : 0
        case 0xed: return continuation(1, 0x80...0x9f) && continuation(2) ? 3 : 0
        case 0xf0: return continuation(1, 0x90...0xbf) && continuation(2) && continuation(3) ? 4 : 0
        case 0xf1...0xf3: return continuation(1) && continuation(2) && continuation(3) ? 4 : 0
        case 0xf4: return continuation(1, 0x80...0x8f) && continuation(2) && continuation(3) ? 4 : 0
        default: return 0
        }
    }
}
