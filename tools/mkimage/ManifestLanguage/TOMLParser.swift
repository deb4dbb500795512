/// Parses the TOML subset of the manifest language into tables with source locations. Every syntax error becomes
/// a diagnostic; parsing resumes on the next line so that one run reports all of them.
///
/// Supported: `key = value` lines, `[table]` and `[[array.of.tables]]` headers, basic ("...") and literal ('...')
/// strings, integers (see `IntegerLiteral`), booleans, arrays (may span lines), `#` comments, bare and quoted keys.
/// Rejected with a clear message: inline tables, floats, dates, multi-line strings, dotted keys in assignments.
/// Bounded (`ManifestLimits`): nesting depth, keys per table, string length, and the number of errors reported.
/// The only recursion (arrays in arrays) stops at the nesting limit, so no input can exhaust the stack.
struct TOMLParser {
    struct Failure: Error {
        var location: SourceLocation
        var message: String
    }

    let file: String
    /// The file's UTF-8. The scanner walks bytes but counts columns in characters (Unicode scalars), as the
    /// diagnostics always have; keys and strings are cut from runs of bytes, not built a character at a time.
    private let bytes: [UInt8]
    /// Byte offset of the character `peek()` sees.
    private var index = 0
    private var line = 1
    /// Column (in characters, from 1) of the byte at `index`.
    private var column = 1
    private(set) var diagnostics: [Diagnostic] = []
    let root: TOMLTable
    /// Where `key = value` lines currently go.
    private var current: TOMLTable

    init(source: String, file: String) {
        self.file = file
        self.bytes = Array(source.utf8)
        self.root = TOMLTable(location: SourceLocation(line: 1, column: 1), definedByHeader: true)
        self.current = root
    }

    /// Parses the whole file; the result is `root` plus `diagnostics`.
    mutating func parse() {
        while true {
            guard diagnostics.count < ManifestLimits.maxDiagnostics else {
                diagnostics.append(Diagnostic(file: file, location(), "too many syntax errors; stopped parsing after " +
                                              "\(ManifestLimits.maxDiagnostics) (fix these first)"))
                return
            }
            skipBlanks()
            guard let c = peek() else { return }
            if c == "\n" {
                advance()
                continue
            }
            do throws(Failure) {
                if c == "#" {
                    try skipComment()
                } else if c == "[" {
                    do throws(Failure) {
                        try tableHeader()
                    } catch {
                        // Keys under a broken header belong to no table we know: collect them where nobody looks.
                        current = TOMLTable(location: error.location, definedByHeader: true)
                        throw error
                    }
                } else {
                    try keyValue()
                }
                try endOfLine()
            } catch {
                diagnostics.append(Diagnostic(file: file, error.location, error.message))
                // Resume on the line after the one the scanner stopped on.
                skipRestOfLine()
            }
        }
    }

    // MARK: statements

    private mutating func tableHeader() throws(Failure) {
        let start = location()
        advance() // [
        let isArray = peek() == "["
        if isArray { advance() }
        skipBlanks()
        var path: [(key: String, location: SourceLocation)] = []
        while true {
            let keyLocation = location()
            guard path.count < ManifestLimits.maxNesting else {
                throw Failure(location: keyLocation, message:
                    "table header with more than \(ManifestLimits.maxNesting) keys; tables may nest at most " +
                    "\(ManifestLimits.maxNesting) deep")
            }
            path.append((try key(), keyLocation))
            skipBlanks()
            guard peek() == "." else { break }
            advance()
            skipBlanks()
        }
        for _ in 0..<(isArray ? 2 : 1) {
            guard peek() == "]" else {
                throw Failure(location: location(), message: isArray
                    ? "expected ']]' to close the array-of-tables header started at column \(start.column)"
                    : "expected ']' to close the table header started at column \(start.column)")
            }
            advance()
        }
        current = try open(path, isArray: isArray, headerLocation: start)
    }

    /// Finds or creates the table a header names (TOML's rules: intermediate names may be tables or the last
    /// element of an array of tables).
    private func open(_ path: [(key: String, location: SourceLocation)], isArray: Bool,
                      headerLocation: SourceLocation) throws(Failure) -> TOMLTable {
        // Only error messages need the header's name: built when one is thrown, not for every header.
        func dotted() -> String { path.map { $0.key }.joined(separator: ".") }
        func name() -> String { QuotedText.quote(dotted()) }
        func header() -> String { QuotedText.escaped(dotted(), quote: "]") }
        var table = root
        for (position, step) in path.enumerated() {
            let isLast = position == path.count - 1
            if isLast, isArray, table.holdsTableArray(at: step.key) {
                // Checked without copying the entry: a copy would share the array and make the append copy it.
                let created = TOMLTable(location: headerLocation, definedByHeader: true)
                table.append(created, toArrayAt: step.key)
                table = created
                continue
            }
            guard let existing = table.entry(step.key) else {
                try checkRoom(in: table, for: step.location)
                let created = TOMLTable(location: headerLocation, definedByHeader: isLast)
                table.set(step.key, at: step.location,
                          to: TOMLValue(kind: isLast && isArray ? .tableArray([created]) : .table(created),
                                        location: headerLocation))
                table = created
                continue
            }
            switch existing.value.kind {
            case .table(let t):
                if isLast {
                    if isArray {
                        throw Failure(location: step.location, message:
                            "\(name()) is already a table (defined at \(existing.value.location.line):\(existing.value.location.column)); it cannot also be an array of tables")
                    }
                    if t.definedByHeader {
                        throw Failure(location: step.location, message:
                            "table [\(header())] is defined twice (first at \(t.location.line):\(t.location.column)); merge the two sections")
                    }
                    t.definedByHeader = true
                }
                table = t
            case .tableArray(let tables):
                if isLast {
                    guard isArray else {
                        throw Failure(location: step.location, message:
                            "\(name()) is an array of tables; write [[\(header())]] to add an element")
                    }
                    let created = TOMLTable(location: headerLocation, definedByHeader: true)
                    table.append(created, toArrayAt: step.key)
                    table = created
                } else {
                    table = tables[tables.count - 1]
                }
            default:
                throw Failure(location: step.location, message:
                    "\(QuotedText.quote(path[...position].map { $0.key }.joined(separator: "."))) is already a value (set at \(existing.keyLocation.line):\(existing.keyLocation.column)), not a table")
            }
        }
        return table
    }

    private mutating func keyValue() throws(Failure) {
        let keyLocation = location()
        let name = try key()
        skipBlanks()
        if peek() == "." {
            throw Failure(location: location(), message:
                "dotted keys are not supported; set the key inside its own [section] instead")
        }
        guard peek() == "=" else {
            throw Failure(location: location(), message: "expected '=' after key \(QuotedText.quote(name)), found \(found())")
        }
        advance()
        skipBlanks()
        let value: TOMLValue
        do throws(Failure) {
            value = try self.value()
        } catch {
            current.keysWithInvalidValues.insert(name)
            throw error
        }
        if let previous = current.entry(name) {
            throw Failure(location: keyLocation, message:
                "duplicate key \(QuotedText.quote(name)) (first set at \(previous.keyLocation.line):\(previous.keyLocation.column)); remove one of them")
        }
        try checkRoom(in: current, for: keyLocation)
        current.set(name, at: keyLocation, to: value)
    }

    /// After a statement only blanks and a comment may follow on the line.
    private mutating func endOfLine() throws(Failure) {
        skipBlanks()
        if peek() == "#" { try skipComment() }
        guard let c = peek(), c != "\n" else { return }
        throw Failure(location: location(), message:
            "unexpected \(QuotedText.quote(c)) after the value; put each key = value on its own line")
    }

    /// A new key must fit in `table` (`ManifestLimits.maxKeysPerTable`).
    private func checkRoom(in table: TOMLTable, for keyLocation: SourceLocation) throws(Failure) {
        guard table.count < ManifestLimits.maxKeysPerTable else {
            throw Failure(location: keyLocation, message:
                "too many keys in one table: at most \(ManifestLimits.maxKeysPerTable) are allowed")
        }
    }

    /// What the scanner stopped at, for "expected ..., found ..." messages.
    private func found() -> String {
        guard let c = peek() else { return "end of file" }
        return c == "\n" ? "end of line" : QuotedText.quote(c)
    }

    // MARK: keys and values

    private mutating func key() throws(Failure) -> String {
        if peek() == "\"" || peek() == "'" { return try string() }
        let start = location()
        let first = index
        var length = 0
        while let c = peek(), Self.isBareKeyCharacter(c) {
            guard length < ManifestLimits.maxStringLength else { throw tooLong("key", start) }
            length += 1
            advance()
        }
        guard length == 0 else { return text(from: first) }
        throw Failure(location: location(), message: "expected a key (letters, digits, '_' or '-'), found \(found())")
    }

    /// `depth`: arrays around this value (bounded by `ManifestLimits.maxNesting`).
    private mutating func value(depth: Int = 0) throws(Failure) -> TOMLValue {
        let start = location()
        guard let c = peek(), c != "\n", c != "#" else {
            throw Failure(location: start, message: "missing value after '='")
        }
        switch c {
        case "\"", "'":
            return TOMLValue(kind: .string(try string()), location: start)
        case "[":
            guard depth < ManifestLimits.maxNesting else {
                throw Failure(location: start, message:
                    "arrays nested more than \(ManifestLimits.maxNesting) deep; the manifest needs at most 2")
            }
            return try array(depth: depth + 1)
        case "{":
            throw Failure(location: start, message:
                "inline tables are not supported; use a [table] or [[array of tables]] section")
        default:
            let word = try bareWord()
            if word == "true" || word == "false" { return TOMLValue(kind: .bool(word == "true"), location: start) }
            guard let first = word.unicodeScalars.first, Self.mayStartNumber(first) else {
                let shown = word.isEmpty ? String(c) : word
                throw Failure(location: start, message: "invalid value \(QuotedText.quote(shown)); strings need quotes " +
                              "(\"\(QuotedText.escaped(shown, quote: "\""))\"), booleans are true or false")
            }
            switch IntegerLiteral.parse(word) {
            case .success(let n): return TOMLValue(kind: .integer(n), location: start)
            case .failure(let error): throw Failure(location: start, message: error.message)
            }
        }
    }

    private mutating func bareWord() throws(Failure) -> String {
        let start = location()
        let first = index
        var length = 0
        while let c = peek(), c != " ", c != "\t", c != "\n", c != "\r", c != ",", c != "]", c != "#", c != "[" {
            guard length < ManifestLimits.maxStringLength else { throw tooLong("value", start) }
            length += 1
            advance()
        }
        return text(from: first)
    }

    private mutating func string() throws(Failure) -> String {
        let start = location()
        let quote = peek()!
        advance()
        if peek() == quote, peek(1) == quote {
            throw Failure(location: start, message: "multi-line strings are not supported; use a one-line string")
        }
        // The text so far, plus the run of plain characters from `run` not yet added to it.
        var text = ""
        var run = index
        var length = 0
        while true {
            guard let c = peek(), c != "\n" else {
                throw Failure(location: start, message: "unterminated string; add a closing \(quote) on the same line")
            }
            if c != quote {
                guard length < ManifestLimits.maxStringLength else { throw tooLong("string", start) }
                length += 1
            }
            let end = index
            advance()
            if c == quote { return text.isEmpty ? self.text(from: run, to: end) : text + self.text(from: run, to: end) }
            if c == "\\" && quote == "\"" {
                text += self.text(from: run, to: end)
                text.unicodeScalars.append(try escape(at: SourceLocation(line: line, column: column - 1)))
                run = index
            } else if Self.isControl(c) {
                throw Failure(location: SourceLocation(line: line, column: column - 1), message:
                    "control character \(Self.codePoint(c)) in string; write it as an escape")
            }
        }
    }

    private mutating func escape(at location: SourceLocation) throws(Failure) -> Unicode.Scalar {
        guard let c = peek(), c != "\n" else {
            throw Failure(location: location, message: "unterminated string; add a closing \" on the same line")
        }
        advance()
        switch c {
        case "n": return "\n"
        case "t": return "\t"
        case "r": return "\r"
        case "\"": return "\""
        case "\\": return "\\"
        case "u", "U":
            var hex = ""
            for _ in 0..<(c == "u" ? 4 : 8) {
                guard let h = peek(), h.properties.isASCIIHexDigit else { break }
                hex.unicodeScalars.append(h)
                advance()
            }
            if hex.count == (c == "u" ? 4 : 8), let v = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(v) {
                return scalar
            }
            throw Failure(location: location, message:
                "invalid Unicode escape '\\\(c)\(hex)'; write \\u followed by 4 or \\U by 8 hex digits of a valid code point")
        default:
            throw Failure(location: location, message:
                "invalid escape sequence '\\\(QuotedText.escape(c, quote: "'"))'; valid escapes are \\\" \\\\ \\n \\t \\r \\uXXXX (write \\\\ for a backslash)")
        }
    }

    private mutating func array(depth: Int) throws(Failure) -> TOMLValue {
        let start = location()
        advance() // [
        var elements: [TOMLValue] = []
        while true {
            try skipBlanksNewlinesAndComments()
            guard let c = peek() else {
                throw Failure(location: start, message: "unterminated array; add ']' to close it")
            }
            if c == "]" {
                advance()
                return TOMLValue(kind: .array(elements), location: start)
            }
            elements.append(try value(depth: depth))
            try skipBlanksNewlinesAndComments()
            switch peek() {
            case ",": advance()
            case "]": break
            case nil: throw Failure(location: start, message: "unterminated array; add ']' to close it")
            case let other?:
                let hint = line == start.line ? "is a ',' missing?" : "is a ']' missing?"
                throw Failure(location: location(), message:
                    "expected ',' or ']' in the array opened at \(start.line):\(start.column) (\(hint)), found \(QuotedText.quote(other))")
            }
        }
    }

    // MARK: characters

    /// The character at `index` (`ahead` = 1: the one after it); a CR before an LF reads as the LF.
    private func peek(_ ahead: Int = 0) -> Unicode.Scalar? {
        var i = index
        if ahead > 0, i < bytes.count { i += Self.scalarLength(bytes[i]) }
        // A carriage return before a newline is part of the line ending.
        if i < bytes.count, bytes[i] == 0x0d, i + 1 < bytes.count, bytes[i + 1] == 0x0a { i += 1 }
        guard i < bytes.count else { return nil }
        let b = bytes[i]
        return b < 0x80 ? Unicode.Scalar(b) : decodeScalar(at: i)
    }

    /// The non-ASCII character whose first byte is at `i` (the source came from a `String`: well-formed UTF-8).
    private func decodeScalar(at i: Int) -> Unicode.Scalar {
        let n = min(Self.scalarLength(bytes[i]), bytes.count - i)
        var value = UInt32(bytes[i]) & (0x7f >> n)
        for k in 1..<max(n, 1) { value = value << 6 | UInt32(bytes[i + k] & 0x3f) }
        return Unicode.Scalar(value) ?? "\u{fffd}"
    }

    /// Bytes in the UTF-8 sequence that `first` starts.
    private static func scalarLength(_ first: UInt8) -> Int {
        first < 0xc0 ? 1 : first < 0xe0 ? 2 : first < 0xf0 ? 3 : 4
    }

    private mutating func advance() {
        guard index < bytes.count else { return }
        if bytes[index] == 0x0d, index + 1 < bytes.count, bytes[index + 1] == 0x0a { index += 1 }
        if bytes[index] == 0x0a {
            line += 1
            column = 1
            index += 1
        } else {
            column += 1
            index = min(index + Self.scalarLength(bytes[index]), bytes.count)
        }
    }

    /// The source text from byte `first` to `end` (default: the scanner's position).
    private func text(from first: Int, to end: Int? = nil) -> String {
        String(decoding: bytes[first..<(end ?? index)], as: UTF8.self)
    }

    private func location() -> SourceLocation { SourceLocation(line: line, column: column) }

    private mutating func skipBlanks() {
        while let c = peek(), c == " " || c == "\t" { advance() }
    }

    /// TOML allows no control characters in comments except tab.
    private mutating func skipComment() throws(Failure) {
        while let c = peek(), c != "\n" {
            if Self.isControl(c) {
                throw Failure(location: location(), message:
                    "control character \(Self.codePoint(c)) in a comment; TOML allows only tab there")
            }
            advance()
        }
    }

    /// C0 controls except tab, and DEL: not allowed in strings or comments.
    static func isControl(_ c: Unicode.Scalar) -> Bool { (c.value < 0x20 && c != "\t") || c.value == 0x7f }

    static func codePoint(_ c: Unicode.Scalar) -> String {
        let hex = String(c.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    private func tooLong(_ what: String, _ start: SourceLocation) -> Failure {
        Failure(location: location(), message: "\(what) starting at \(start.line):\(start.column) is longer than " +
                "\(ManifestLimits.maxStringLength) characters")
    }

    private mutating func skipBlanksNewlinesAndComments() throws(Failure) {
        while let c = peek() {
            if c == " " || c == "\t" || c == "\n" {
                advance()
            } else if c == "#" {
                try skipComment()
            } else {
                return
            }
        }
    }

    private mutating func skipRestOfLine() {
        while let c = peek(), c != "\n" { advance() }
        advance()
    }

    /// What the value parser hands to `IntegerLiteral` (which names what is wrong with it); other words are
    /// "invalid value". The Unicode property lookup is only needed beyond ASCII, where only 0-9 are numeric.
    static func mayStartNumber(_ c: Unicode.Scalar) -> Bool {
        c.isASCII ? (c >= "0" && c <= "9") || c == "+" || c == "-" : c.properties.numericType != nil
    }

    static func isBareKeyCharacter(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "_" || c == "-"
    }
}
