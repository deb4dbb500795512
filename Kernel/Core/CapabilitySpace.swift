import KernelABI

/// A PD's three capability spaces: objects by selector, memory by virtual page number, I/O by port.
///
/// Invariants: every entry's `key` equals its dictionary key and its `holder` is the owning PD; keys stay within
/// `selectorLimit`, the user virtual page range, and `portLimit` respectively.
struct CapabilitySpace {
    /// Selectors are `0..<selectorLimit` (a bound on what a PD may name, checked by every hypercall).
    static let selectorLimit: UInt64 = 1 << 20
    static let portLimit: UInt64 = 1 << 16
    static let firstUserPage = AddressLayout.userBase >> AddressLayout.pageShift
    static let userPageEnd = AddressLayout.userEnd >> AddressLayout.pageShift

    var objects: [UInt64: Capability] = [:]
    var memory: [UInt64: Capability] = [:]
    var io: [UInt64: Capability] = [:]

    subscript(kind: CapabilityRange.Kind, key: UInt64) -> Capability? {
        get {
            switch kind {
            case .object: return objects[key]
            case .memory: return memory[key]
            case .io: return io[key]
            case .null: return nil
            }
        }
        set {
            switch kind {
            case .object: objects[key] = newValue
            case .memory: memory[key] = newValue
            case .io: io[key] = newValue
            case .null: break
            }
        }
    }

    /// Whether `base ..< base + count` is a valid key range for `kind`.
    static func isValidRange(_ kind: CapabilityRange.Kind, base: UInt64, count: UInt64) -> Bool {
        guard count > 0 else { return false }
        switch kind {
        case .object: return base < selectorLimit && count <= selectorLimit - base
        case .io: return base < portLimit && count <= portLimit - base
        case .memory: return base >= firstUserPage && base < userPageEnd && count <= userPageEnd - base
        case .null: return false
        }
    }

    /// The capabilities of `kind` in `base ..< base + count`, in key order. Walks whichever is smaller: the range
    /// or the holdings, so a huge sparse range costs no more than what the PD holds.
    func capabilities(_ kind: CapabilityRange.Kind, base: UInt64, count: UInt64) -> [Capability] {
        let table: [UInt64: Capability]
        switch kind {
        case .object: table = objects
        case .memory: table = memory
        case .io: table = io
        case .null: return []
        }
        var found: [Capability] = []
        if count <= UInt64(table.count) {
            var key = base
            while key < base + count {
                if let cap = table[key] { found.append(cap) }
                key += 1
            }
        } else {
            for (key, cap) in table where key >= base && key - base < count { found.append(cap) }
            found.sort { $0.key < $1.key }
        }
        return found
    }

    var all: [Capability] {
        var result: [Capability] = []
        for (_, c) in objects { result.append(c) }
        for (_, c) in memory { result.append(c) }
        for (_, c) in io { result.append(c) }
        return result
    }
}
