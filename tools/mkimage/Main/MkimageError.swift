/// A problem that stops mkimage; printed on stderr as `mkimage: error: ...` (manifest diagnostics are printed as
/// `file:line:column: error: ...`, all of them).
struct MkimageError: Error, CustomStringConvertible {
    var lines: [String]

    init(_ message: String) { lines = ["mkimage: error: " + message] }
    init(lines: [String]) { self.lines = lines }

    var description: String { lines.joined(separator: "\n") }
}
