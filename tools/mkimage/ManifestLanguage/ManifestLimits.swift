/// The bounds the manifest language front end enforces, each reported where it is first exceeded. They keep a
/// hostile file from exhausting the stack (nesting), memory or time (size, keys, string length), and no real
/// manifest comes near them.
public enum ManifestLimits {
    /// Bytes in one manifest file (a 100,000-component system is about 10 MiB).
    public static let maxFileBytes = 64 << 20
    /// Arrays inside arrays, and keys in one `[a.b.c]` header: the parser's recursion and the depth of the
    /// parsed tree (freed recursively) never go deeper than this.
    public static let maxNesting = 32
    /// Keys in one table (the schema's largest table has 13).
    public static let maxKeysPerTable = 1024
    /// Characters in one string or key (a VM command line may have 4096).
    public static let maxStringLength = 4096
    /// Diagnostics reported for one file; the rest are counted in a final line.
    public static let maxDiagnostics = 500
}
