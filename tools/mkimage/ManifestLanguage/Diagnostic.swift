/// One problem found in a manifest, printed as `file:line:column: error: message` (lines and columns from 1).
public struct Diagnostic: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        // Whatever a check put in its message, a diagnostic is one line of printable ASCII.
        self.message = QuotedText.sanitize(message)
    }

    /// A diagnostic at `location` of `file`. The checks after the parser leave `file` empty: the compiler sets
    /// it for all of them (`ManifestCompiler.sorted`).
    init(file: String = "", _ location: SourceLocation, _ message: String) {
        self.init(file: file, line: location.line, column: location.column, message: message)
    }

    public var description: String { "\(file):\(line):\(column): error: \(message)" }
}

/// All problems found in a manifest, sorted by position; never empty.
public struct ManifestErrors: Error, Equatable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

    public var description: String { diagnostics.map { $0.description }.joined(separator: "\n") }
}
