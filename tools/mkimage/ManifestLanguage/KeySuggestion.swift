/// "Did you mean" for misspelt keys and names: the closest candidate by edit distance, if it is close enough
/// to be a plausible typo. One suggester serves a whole compilation with a fixed budget of edit-distance work,
/// so a hostile file with a million misspelt references over a million names still takes linear time (once
/// the budget is spent, messages come without suggestions).
final class KeySuggestion {
    /// Edit-distance cells (letters of the word times letters of a candidate) one compilation may spend.
    static let defaultBudget = 50_000_000
    /// Words and candidates longer than this get no suggestion (names have at most 63 characters).
    static let maxWordLength = 64

    private(set) var budget: Int

    init(budget: Int = KeySuggestion.defaultBudget) { self.budget = budget }

    func closest(to word: String, in candidates: [String]) -> String? {
        let a = Array(word.lowercased().unicodeScalars)
        guard a.count <= Self.maxWordLength else { return nil }
        let limit = max(2, a.count / 3)
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let b = Array(candidate.lowercased().unicodeScalars)
            guard b.count <= Self.maxWordLength, abs(a.count - b.count) <= limit else { continue }
            guard budget >= (a.count + 1) * (b.count + 1) else { return best?.candidate }
            budget -= (a.count + 1) * (b.count + 1)
            let d = Self.distance(a, b)
            if d <= limit, d < (best?.distance ?? Int.max) { best = (candidate, d) }
        }
        return best?.candidate
    }

    /// "; did you mean 'x'?" or "" when nothing is close.
    func hint(for word: String, in candidates: [String]) -> String {
        closest(to: word, in: candidates).map { "; did you mean \(QuotedText.quote($0))?" } ?? ""
    }

    /// Levenshtein distance over characters, case-insensitive.
    static func distance(_ a: String, _ b: String) -> Int {
        distance(Array(a.lowercased().unicodeScalars), Array(b.lowercased().unicodeScalars))
    }

    static func distance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var row = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            row[0] = i
            for j in 1...b.count {
                row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &row)
        }
        return previous[b.count]
    }
}
