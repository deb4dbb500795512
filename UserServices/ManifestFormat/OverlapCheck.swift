/// Finds half-open ranges `[start, end)` that overlap a range declared before them, in O(n log n) even when
/// every range overlaps every other. Used for I/O ports, MMIO and interrupts by the manifest compiler and the
/// blob decoder (each resource may be granted once).
public enum OverlapCheck {
    public struct Overlap: Equatable, Sendable {
        /// The later range (in the given order).
        public var index: Int
        /// An earlier range it overlaps.
        public var earlier: Int
    }

    /// Every range that overlaps an earlier one, sorted by `index`. Empty ranges overlap nothing.
    public static func overlaps(starts: [UInt64], ends: [UInt64]) -> [Overlap] {
        let n = starts.count
        let bySweep = (0..<n).sorted { a, b in starts[a] < starts[b] || (starts[a] == starts[b] && a < b) }
        var found = [Int](repeating: -1, count: n)
        // Earlier ranges that start at or before this one overlap it if they end after its start: the largest end
        // among the earlier ones already swept (a prefix maximum over declaration order).
        var maxEnd = PrefixBest(keys: ends, largest: true)
        for j in bySweep where starts[j] < ends[j] {
            if let i = maxEnd.best(before: j), ends[i] > starts[j] { found[j] = i }
            maxEnd.insert(j)
        }
        // Earlier ranges that start after this one overlap it if they start before its end: the smallest start
        // among the earlier ones swept from the other side.
        var minStart = PrefixBest(keys: starts, largest: false)
        for j in bySweep.reversed() where starts[j] < ends[j] {
            if found[j] < 0, let i = minStart.best(before: j), starts[i] < ends[j] { found[j] = i }
            minStart.insert(j)
        }
        var result: [Overlap] = []
        for j in 0..<n where found[j] >= 0 { result.append(Overlap(index: j, earlier: found[j])) }
        return result
    }

    /// A Fenwick tree over positions 0..<keys.count that answers: among the inserted positions before p, the one
    /// with the largest (or smallest) key.
    struct PrefixBest {
        var tree: [Int]
        let keys: [UInt64]
        let largest: Bool

        init(keys: [UInt64], largest: Bool) {
            tree = [Int](repeating: -1, count: keys.count + 1)
            self.keys = keys
            self.largest = largest
        }

        func better(_ a: Int, _ b: Int) -> Bool { largest ? keys[a] > keys[b] : keys[a] < keys[b] }

        mutating func insert(_ position: Int) {
            var k = position + 1
            while k < tree.count {
                if tree[k] < 0 || better(position, tree[k]) { tree[k] = position }
                k += k & -k
            }
        }

        /// The best inserted position among 0..<position.
        func best(before position: Int) -> Int? {
            var k = position, result = -1
            while k > 0 {
                if tree[k] >= 0, result < 0 || better(tree[k], result) { result = tree[k] }
                k -= k & -k
            }
            return result < 0 ? nil : result
        }
    }
}
