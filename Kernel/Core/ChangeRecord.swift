import KernelABI

/// What changed in one PD since the invariant checker last looked at it, so it can re-check only that (a PD may hold
/// thousands of capabilities, and randomized tests check after every hypercall). Memory and I/O entries are noted by
/// the first key of their range.
///
/// Recording starts with the first check: until then the record says "everything changed" and keeps no lists, so
/// on the image, where no checker runs, it costs nothing. The key lists are bounded: past `keyLimit` entries a list
/// gives up and says "all of that space changed".
struct ChangeRecord {
    static let keyLimit = 256

    /// The object space changed (it is small: the checker re-checks it whole).
    var objects = true
    /// The page tables or the UTCB pages changed (every entry added to or removed from the memory space maps or
    /// unmaps a page, so this is set then too).
    var addressSpace = true
    /// Memory entries (virtual page numbers) whose slot or capability links changed; nil: all of them.
    var memoryKeys: [UInt64]?
    /// I/O entries (ports) whose slot, bitmap bit or capability links changed; nil: all of them.
    var ports: [UInt64]?

    mutating func note(_ kind: CapabilityRange.Kind, key: UInt64) {
        switch kind {
        case .object: objects = true
        case .memory: Self.append(key, to: &memoryKeys)
        case .io: Self.append(key, to: &ports)
        case .null: break
        }
    }

    /// After a check: nothing changed since.
    mutating func clear() {
        objects = false
        addressSpace = false
        memoryKeys = []
        ports = []
    }

    private static func append(_ key: UInt64, to list: inout [UInt64]?) {
        if let count = list?.count, count < keyLimit {
            list?.append(key)
        } else {
            list = nil
        }
    }
}
