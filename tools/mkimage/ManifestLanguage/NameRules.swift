/// What names and other texts in a manifest may contain. Names end up in the compiled manifest (printable ASCII)
/// and in DOT node labels, so they are kept simple.
enum NameRules {
    static let maxLength = 63

    /// Component, VM and service names and kinds: a letter, then letters, digits, '-' or '_'.
    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, isLetter(first), name.unicodeScalars.count <= maxLength else {
            return false
        }
        return name.unicodeScalars.allSatisfy { isLetter($0) || isDigit($0) || $0 == "-" || $0 == "_" }
    }

    /// Binary (boot bundle module) names: letters, digits, '.', '-' and '_', starting with a letter or digit
    /// (so never a directory name like "." or "..", nor a hidden file).
    static func isValidBinaryName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, isLetter(first) || isDigit(first) else { return false }
        return name.unicodeScalars.count <= maxLength
            && name.unicodeScalars.allSatisfy { isLetter($0) || isDigit($0) || $0 == "-" || $0 == "_" || $0 == "." }
    }

    /// Free text (command lines): printable ASCII.
    static func isPrintableASCII(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value <= 0x7e }
    }

    static let nameRule = "use a letter followed by letters, digits, '-' or '_' (at most 63 characters)"
    static let binaryRule = "use letters, digits, '.', '-' and '_', starting with a letter or digit (at most 63 characters)"

    private static func isLetter(_ c: Unicode.Scalar) -> Bool { (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") }
    private static func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }
}
