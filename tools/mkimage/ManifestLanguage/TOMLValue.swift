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
    /// Position in `entries` of each key, so a lookup costs the same in a table of 3 keys or of 1,000.
    private var positions: [String: Int] = [:]
    /// Keys written in this table whose value had a syntax error (already reported): not "missing".
    var keysWithInvalidValues: Set<String> = []

    init(location: SourceLocation, definedByHeader: Bool) {
        self.location = location
        self.definedByHeader = definedByHeader
    }

    var count: Int { entries.count }

    func entry(_ key: String) -> Entry? { positions[key].map { entries[$0] } }

    func set(_ key: String, at keyLocation: SourceLocation, to value: TOMLValue) {
        if let i = positions[key] {
            entries[i].value = value
        } else {
            positions[key] = entries.count
            entries.append(Entry(key: key, keyLocation: keyLocation, value: value))
        }
    }

    func holdsTableArray(at key: String) -> Bool {
        guard let i = positions[key], case .tableArray = entries[i].value.kind else { return false }
        return true
    }

    /// Appends `table` to the array of tables at `key` in place (rebuilding the array for each `[[...]]` header
    /// would make a file of n components cost n^2).
    func append(_ table: TOMLTable, toArrayAt key: String) {
        guard let i = positions[key], case .tableArray(var tables) = entries[i].value.kind else { return }
        entries[i].value.kind = .bool(false) // drop the entry's reference so `tables` is not copied
        tables.append(table)
        entries[i].value.kind = .tableArray(tables)
    }
}
