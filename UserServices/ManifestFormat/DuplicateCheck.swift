/// Finds repeated values in O(n log n): each value that occurs before is reported once per later occurrence,
/// with the index of its first occurrence. Used for names by the manifest compiler and the blob decoder.
public enum DuplicateCheck {
    public struct Duplicate: Equatable, Sendable {
        /// The later occurrence.
        public var index: Int
        /// The first occurrence of the same value.
        public var first: Int
    }

    /// Duplicates in `values`, sorted by `index`.
    public static func duplicates<T: Comparable>(in values: [T]) -> [Duplicate] {
        let byValue = values.indices.sorted { a, b in values[a] < values[b] || (values[a] == values[b] && a < b) }
        var result: [Duplicate] = []
        var runStart = 0
        for k in byValue.indices {
            if k > 0, values[byValue[k]] == values[byValue[runStart]] {
                result.append(Duplicate(index: byValue[k], first: byValue[runStart]))
            } else {
                runStart = k
            }
        }
        return result.sorted { $0.index < $1.index }
    }
}
