/// A position in a manifest source file. The file itself is not part of it: every location of one compilation
/// is in the same file, which `ManifestCompiler` puts into each `Diagnostic` (so the hundreds of thousands of
/// locations a large manifest has are two integers each, not a copy of the file name).
public struct SourceLocation: Equatable, Hashable, Sendable, Comparable {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.line, a.column) < (b.line, b.column)
    }
}
