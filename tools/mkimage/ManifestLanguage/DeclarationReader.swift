/// Applies the schema (`ManifestSchema`) to parsed TOML: reports unknown keys (with the closest valid key),
/// values of the wrong type and missing required keys, and produces `ManifestDeclarations`.
struct DeclarationReader {
    private(set) var diagnostics: [Diagnostic] = []
    /// Set when an error may have hidden a name, route, dependency or section: cross-references cannot be checked
    /// reliably then (they would report components or services as missing that are only misspelt).
    private(set) var lostReferences = false
    let suggestions: KeySuggestion

    init(suggestions: KeySuggestion = KeySuggestion()) { self.suggestions = suggestions }

    mutating func read(_ root: TOMLTable) -> ManifestDeclarations {
        var result = ManifestDeclarations()
        checkKeys(root, ManifestSchema.topLevel, path: nil)
        if let machine = value(root, "machine", ManifestSchema.topLevel, path: nil), case .table(let t) = machine.kind {
            checkKeys(t, ManifestSchema.machine, path: "machine")
            result.machine = MachineDeclaration(memory: integer(t, "memory", ManifestSchema.machine, path: "machine"),
                                                interrupts: integer(t, "interrupts", ManifestSchema.machine, path: "machine"))
        }
        for t in tables(root, "component", ManifestSchema.topLevel, path: nil) {
            if let c = component(t) { result.components.append(c) }
        }
        for t in tables(root, "vm", ManifestSchema.topLevel, path: nil) {
            if let vm = virtualMachine(t) { result.vms.append(vm) }
        }
        return result
    }

    private mutating func component(_ t: TOMLTable) -> ComponentDeclaration? {
        let s = ManifestSchema.component, p = "component"
        checkKeys(t, s, path: p)
        let name = required(string(t, "name", s, path: p), "name", s, in: t, path: p)
        let binary = required(string(t, "binary", s, path: p), "binary", s, in: t, path: p)
        let memory = required(integer(t, "memory", s, path: p), "memory", s, in: t, path: p)
        let provides = tables(t, "provides", s, path: p).compactMap { service($0) }
        let uses = tables(t, "uses", s, path: p).compactMap { route($0, path: "component.uses") }
        guard let name else { return nil }
        return ComponentDeclaration(
            location: t.location, name: name, binary: binary, memory: memory,
            priority: integer(t, "priority", s, path: p), budget: integer(t, "budget_ms", s, path: p),
            ioPorts: ranges(t, "io_ports", s, path: p), mmio: ranges(t, "mmio", s, path: p),
            interrupts: integers(t, "interrupts", s, path: p), pciDevices: strings(t, "pci_devices", s, path: p),
            provides: provides, uses: uses,
            dependsOn: strings(t, "depends_on", s, path: p),
            restartOnFault: bool(t, "restart_on_fault", s, path: p) ?? false, isVMM: bool(t, "vmm", s, path: p) ?? false)
    }

    private mutating func service(_ t: TOMLTable) -> ServiceDeclaration? {
        let s = ManifestSchema.service, p = "component.provides"
        checkKeys(t, s, path: p)
        guard let name = required(string(t, "name", s, path: p), "name", s, in: t, path: p) else { return nil }
        return ServiceDeclaration(location: t.location, name: name, kind: string(t, "kind", s, path: p) ?? name)
    }

    private mutating func route(_ t: TOMLTable, path p: String) -> RouteDeclaration? {
        let s = ManifestSchema.route
        checkKeys(t, s, path: p)
        guard let name = required(string(t, "name", s, path: p), "name", s, in: t, path: p) else { return nil }
        return RouteDeclaration(location: t.location, name: name, kind: string(t, "kind", s, path: p) ?? name,
                                provider: string(t, "provider", s, path: p), service: string(t, "service", s, path: p))
    }

    private mutating func virtualMachine(_ t: TOMLTable) -> VMDeclaration? {
        let s = ManifestSchema.vm, p = "vm"
        checkKeys(t, s, path: p)
        let name = required(string(t, "name", s, path: p), "name", s, in: t, path: p)
        let vmm = required(string(t, "vmm", s, path: p), "vmm", s, in: t, path: p)
        let memory = required(integer(t, "memory", s, path: p), "memory", s, in: t, path: p)
        let services = tables(t, "services", s, path: p).compactMap { route($0, path: "vm.services") }
        guard let name else { return nil }
        return VMDeclaration(location: t.location, name: name, vmm: vmm, kernel: string(t, "kernel", s, path: p),
                             initrd: string(t, "initrd", s, path: p), commandLine: string(t, "cmdline", s, path: p),
                             disk: string(t, "disk", s, path: p),
                             diskService: string(t, "disk_service", s, path: p),
                             testImage: string(t, "test_image", s, path: p), memory: memory,
                             vcpus: integer(t, "vcpus", s, path: p), nested: bool(t, "nested", s, path: p) ?? false,
                             services: services)
    }

    // MARK: keys

    /// How a table is named in messages: "the top level", "[machine]", "[[component]]".
    private func section(_ path: String?) -> String {
        guard let path else { return "the top level" }
        return path == "machine" ? "[machine]" : "[[\(path)]]"
    }

    private mutating func checkKeys(_ t: TOMLTable, _ schema: [ManifestSchema.Key], path: String?) {
        for entry in t.entries where !schema.contains(where: { $0.name == entry.key }) {
            let valid = schema.map { $0.name }
            let suggestion = suggestions.closest(to: entry.key, in: valid)
            let message: String
            switch entry.value.kind {
            case .table, .tableArray:
                let brackets: (String, String) = { if case .table = entry.value.kind { return ("[", "]") }; return ("[[", "]]") }()
                let full = (path.map { $0 + "." } ?? "") + entry.key
                let hint = suggestion.map { s -> String in
                    let spec = schema.first { $0.name == s }!
                    return "; did you mean \(spec.type == .table ? "[" : "[[")\((path.map { $0 + "." } ?? "") + s)\(spec.type == .table ? "]" : "]]")?"
                }
                message = "unknown section \(brackets.0)\(full)\(brackets.1)" + (hint ?? "; valid sections here are " + list(schema.filter { $0.type == .table || $0.type == .tableArray }.map { $0.name }))
            default:
                message = "unknown key \(QuotedText.quote(entry.key)) in \(section(path))" +
                    (suggestion.map { "; did you mean \(QuotedText.quote($0))?" } ?? "; valid keys are " + list(valid))
            }
            if case .table = entry.value.kind { lostReferences = true }
            if case .tableArray = entry.value.kind { lostReferences = true }
            report(entry.keyLocation, message)
        }
    }

    private func list(_ names: [String]) -> String {
        names.isEmpty ? "none" : names.map { "\(QuotedText.quote($0))" }.joined(separator: ", ")
    }

    // MARK: typed values

    /// The value of a known key if it has the schema's type; a type mismatch is reported.
    private mutating func value(_ t: TOMLTable, _ key: String, _ schema: [ManifestSchema.Key],
                                path: String?) -> TOMLValue? {
        guard let entry = t.entry(key), let spec = schema.first(where: { $0.name == key }) else { return nil }
        let matches: Bool
        switch (spec.type, entry.value.kind) {
        case (.string, .string), (.integer, .integer), (.bool, .bool), (.table, .table), (.tableArray, .tableArray),
             (.stringArray, .array), (.integerArray, .array), (.rangeArray, .array):
            matches = true
        default:
            matches = false
        }
        guard matches else {
            if [.string, .stringArray, .table, .tableArray].contains(spec.type) { lostReferences = true }
            let example = spec.type == .table || spec.type == .tableArray ? spec.example : "\(key) = \(spec.example)"
            report(entry.value.location, "\(QuotedText.quote(key)) in \(section(path)) must be \(spec.type.description) " +
                   "(e.g. \(example)), not \(entry.value.typeName)")
            return nil
        }
        return entry.value
    }

    private mutating func string(_ t: TOMLTable, _ key: String, _ s: [ManifestSchema.Key], path: String?) -> Located<String>? {
        guard let v = value(t, key, s, path: path), case .string(let text) = v.kind else { return nil }
        return Located(value: text, location: v.location)
    }

    private mutating func integer(_ t: TOMLTable, _ key: String, _ s: [ManifestSchema.Key], path: String?) -> Located<UInt64>? {
        guard let v = value(t, key, s, path: path), case .integer(let n) = v.kind else { return nil }
        return Located(value: n, location: v.location)
    }

    private mutating func bool(_ t: TOMLTable, _ key: String, _ s: [ManifestSchema.Key], path: String?) -> Bool? {
        guard let v = value(t, key, s, path: path), case .bool(let b) = v.kind else { return nil }
        return b
    }

    private mutating func elements(_ t: TOMLTable, _ key: String, _ s: [ManifestSchema.Key], path: String?) -> [TOMLValue] {
        guard let v = value(t, key, s, path: path), case .array(let elements) = v.kind else { return [] }
        return elements
    }

    private mutating func strings(_ t: TOMLTable, _ key: String, _ s: [ManifestSchema.Key], path: String?) -> [Located<String>] {
        elements(t, key, s, path: path).compactMap { e in
            guard case .string(let text) = e.kind else {
                lostReferences = true
                report(e.location, "each element of \(QuotedText.quote(key)) must be a string in quotes, not \(e.typeName)")
                return nil
            }
            return Located(value: text, location: e.location)
        }
    }

    private mutating func integers(_ t: TOMLTable, _ key: String, _ s: [ManifestSchema.Key], path: String?) -> [Located<UInt64>] {
        elements(t, key, s, path: path).compactMap { e in
            guard case .integer(let n) = e.kind else {
                report(e.location, "each element of \(QuotedText.quote(key)) must be an integer, not \(e.typeName)")
                return nil
            }
            return Located(value: n, location: e.location)
        }
    }

    private mutating func ranges(_ t: TOMLTable, _ key: String, _ s: [ManifestSchema.Key], path: String?) -> [Located<RangeLiteral>] {
        let example = s.first { $0.name == key }?.example ?? ""
        let all = elements(t, key, s, path: path)
        if let first = all.first, !all.contains(where: { if case .array = $0.kind { return true }; return false }) {
            report(t.entry(key)?.value.location ?? first.location, "\(QuotedText.quote(key)) must be an array of [start, size] pairs, " +
                   "e.g. \(key) = \(example) (note the double brackets)")
            return []
        }
        return all.compactMap { e in
            guard case .array(let pair) = e.kind, pair.count == 2,
                  case .integer(let start) = pair[0].kind, case .integer(let size) = pair[1].kind else {
                report(e.location, "each element of \(QuotedText.quote(key)) must be a [start, size] pair of integers " +
                       "(e.g. \(key) = \(example)), not \(e.typeName)")
                return nil
            }
            return Located(value: RangeLiteral(start: start, size: size), location: e.location)
        }
    }

    private mutating func tables(_ t: TOMLTable, _ key: String, _ s: [ManifestSchema.Key], path: String?) -> [TOMLTable] {
        guard let v = value(t, key, s, path: path), case .tableArray(let tables) = v.kind else { return [] }
        return tables
    }

    private mutating func required<T>(_ value: Located<T>?, _ key: String, _ schema: [ManifestSchema.Key],
                                      in t: TOMLTable, path: String) -> Located<T>? {
        // Present but of the wrong type was reported already.
        if value == nil, t.entry(key) == nil, !t.keysWithInvalidValues.contains(key) {
            let example = schema.first { $0.name == key }?.example ?? ""
            lostReferences = true
            report(t.location, "\(section(path)) is missing the required key \(QuotedText.quote(key)) (e.g. \(key) = \(example))")
        }
        return value
    }

    private mutating func report(_ location: SourceLocation, _ message: String) {
        diagnostics.append(Diagnostic(location, message))
    }
}
