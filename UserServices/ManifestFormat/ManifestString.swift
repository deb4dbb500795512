/// Text in a compiled manifest (names, binary names, command lines): printable ASCII kept as bytes.
/// Bytes rather than `String` so the root task can compare and print names without Unicode tables (Embedded Swift
/// would need normalization data for `String ==`).
public struct ManifestString: Equatable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public var bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }

    public init(_ string: String) { self.bytes = Array(string.utf8) }

    public init(stringLiteral value: StaticString) {
        self.bytes = value.withUTF8Buffer { Array($0) }
    }

    public var isEmpty: Bool { bytes.isEmpty }

    public var description: String { String(decoding: bytes, as: UTF8.self) }

    /// Printable ASCII (space to tilde): the only bytes a compiled manifest may contain in its strings.
    public static func isPrintable(_ byte: UInt8) -> Bool { byte >= 0x20 && byte <= 0x7e }
}

extension ManifestString: Comparable {
    /// Byte order, so names can be sorted (duplicate checks) without Unicode tables.
    public static func < (a: ManifestString, b: ManifestString) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }
}
