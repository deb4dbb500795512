/// Component names to declaration indices (the first component of each name; duplicates are reported by the
/// validator), so every cross-reference is one hash lookup instead of a scan of all components.
struct ComponentNames {
    let names: [String]
    private let indices: [String: Int]

    init(_ components: [ComponentDeclaration]) {
        names = components.map { $0.name.value }
        var indices: [String: Int] = [:]
        indices.reserveCapacity(names.count)
        for (i, name) in names.enumerated() where indices[name] == nil { indices[name] = i }
        self.indices = indices
    }

    func index(of name: String) -> Int? { indices[name] }
}
