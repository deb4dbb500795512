/// The parsed form of a manifest file before the schema is applied: TOML tables, arrays of tables, strings,
/// integers, booleans and arrays, each with where it came from.
struct TOMLValue {
    enum Kind {
        case string(String)
        case integer(UInt64)
        case bool(Bool)
        case array([TOMLValue])
        case table(TOMLTable)
        case tableArray([TOMLTable])
    }

    var kind: Kind
    var location: SourceLocation

    /// How the schema's error messages name the type of this value.
    var typeName: String {
        switch kind {
        case .string: return "a string"
        case .integer: return "an integer"
        case .bool: return "a boolean"
        case .array: return "an array"
        case .table: return "a table"
        case .tableArray: return "an array of tables"
        }
    }
}

/// A TOML table. A class because table headers (`[a.b]`, `[[a.b]]`) reopen tables created earlier in the file.
final class TOMLTable {
    struct Entry {
        var key: String
        var keyLocation: SourceLocation
        var value: TOMLValue
    }

    /// Where the table was introduced (its header, or the first header that implied it).
    let location: SourceLocation
    /// Set once a `[header]` names this table itself, so a second `[header]` is an error.
    var definedByHeader: Bool
    private(set) var entries: [Entry] = []
    /// Position in `entries` of each key, so a lookup costs the same in a table of 3 keys or of 1,000. Built
    /// only once the table has more than `scanLimit` keys: below that a scan is cheaper than hashing, and the
    /// tables of a manifest (one per component, service and route) are nearly all that small.
    private var positions: [String: Int]?
    static let scanLimit = 8
    /// Keys written in this table whose value had a syntax error (already reported): not "missing".
    var keysWithInvalidValues: Set<String> = []

    init(location: SourceLocation, definedByHeader: Bool) {
        self.location = location
        self.definedByHeader = definedByHeader
    }

    var count: Int { entries.count }

    func entry(_ key: String) -> Entry? { position(of: key).map { entries[$0] } }

    private func position(of key: String) -> Int? {
        if let positions { return positions[key] }
        return entries.firstIndex { $0.key == key }
    }

    func set(_ key: String, at keyLocation: SourceLocation, to value: TOMLValue) {
        if let i = position(of: key) {
            entries[i].value = value
            return
        }
        entries.append(Entry(key: key, keyLocation: keyLocation, value: value))
        if positions != nil {
            positions![key] = entries.count - 1
        } else if entries.count > Self.scanLimit {
            var all: [String: Int] = [:]
            for (i, e) in entries.enumerated() { all[e.key] = i }
            positions = all
        }
    }

    func holdsTableArray(at key: String) -> Bool {
        guard let i = position(of: key), case .tableArray = entries[i].value.kind else { return false }
        return true
    }

    /// Appends `table` to the array of tables at `key` in place (rebuilding the array for each `[[...]]` header
    /// would make a file of n components cost n^2).
    func append(_ table: TOMLTable, toArrayAt key: String) {
        guard let i = position(of: key), case .tableArray(var tables) = entries[i].value.kind else { return }
        entries[i].value.kind = .bool(false) // drop the entry's reference so `tables` is not copied
        tables.append(table)
        entries[i].value.kind = .tableArray(tables)
    }
}
