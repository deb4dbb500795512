import KernelABI

/// A PD's three capability spaces: objects by selector, memory by virtual page number, I/O by port. Memory and I/O
/// capabilities are ranges (see `Capability`), stored by their first key.
///
/// Invariants: every entry's `key` equals its dictionary key and its `holder` is the owning PD; no two ranges of one
/// space overlap; keys stay within `selectorLimit`, the user virtual page range, and `portLimit` respectively;
/// `memoryOrders` / `ioOrders` count the entries of each order.
struct CapabilitySpace {
    /// Selectors are `0..<selectorLimit` (a bound on what a PD may name, checked by every hypercall).
    static let selectorLimit: UInt64 = 1 << 20
    static let portLimit: UInt64 = 1 << 16
    static let firstUserPage = AddressLayout.userBase >> AddressLayout.pageShift
    static let userPageEnd = AddressLayout.userEnd >> AddressLayout.pageShift
    /// A VM PD's memory keys: guest page numbers below 2^36 (48-bit guest-physical addresses, 4-level tables).
    static let guestPageEnd: UInt64 = 1 << 36

    private(set) var objects: [UInt64: Capability] = [:]
    private(set) var memory: [UInt64: Capability] = [:]
    private(set) var io: [UInt64: Capability] = [:]
    /// How many ranges of each order the memory and I/O spaces hold, so a lookup by key probes only the orders
    /// that exist (one dictionary probe each) instead of all 52.
    private var memoryOrders = OrderCounts()
    private var ioOrders = OrderCounts()

    /// The capability whose range starts exactly at `key`.
    subscript(kind: CapabilityRange.Kind, key: UInt64) -> Capability? {
        switch kind {
        case .object: return objects[key]
        case .memory: return memory[key]
        case .io: return io[key]
        case .null: return nil
        }
    }

    mutating func insert(_ cap: Capability) {
        switch cap.kind {
        case .object: objects[cap.key] = cap
        case .memory:
            memory[cap.key] = cap
            memoryOrders.add(cap.order)
        case .io:
            io[cap.key] = cap
            ioOrders.add(cap.order)
        case .null: break
        }
    }

    /// Takes `cap` out of its slot (it must be the one there).
    mutating func remove(_ cap: Capability) {
        switch cap.kind {
        case .object: objects[cap.key] = nil
        case .memory:
            if memory.removeValue(forKey: cap.key) != nil { memoryOrders.remove(cap.order) }
        case .io:
            if io.removeValue(forKey: cap.key) != nil { ioOrders.remove(cap.order) }
        case .null: break
        }
    }

    /// The capability whose range contains `key`, if any.
    func covering(_ kind: CapabilityRange.Kind, _ key: UInt64) -> Capability? {
        let orders: OrderCounts
        switch kind {
        case .object: return objects[key]
        case .memory: orders = memoryOrders
        case .io: orders = ioOrders
        case .null: return nil
        }
        var present = orders.present
        while present != 0 {
            let order = UInt64(present.trailingZeroBitCount)
            present &= present - 1
            let base = key & ~((1 << order) - 1)
            if let cap = self[kind, base], cap.order == order { return cap }
        }
        return nil
    }

    /// Another capability of the space whose range contains `cap`'s first key (an overlap; nil when none).
    func enclosing(_ cap: Capability) -> Capability? {
        var present = (cap.kind == .memory ? memoryOrders : ioOrders).present
        while present != 0 {
            let order = UInt64(present.trailingZeroBitCount)
            present &= present - 1
            guard cap.kind != .object, order > cap.order else { continue }
            if let other = self[cap.kind, cap.key & ~((1 << order) - 1)], other.order == order { return other }
        }
        return nil
    }

    /// Capabilities other than `cap` that start inside its range (an overlap; empty when none).
    func inside(_ cap: Capability) -> [Capability] {
        guard cap.kind != .object, cap.order > 0 else { return [] }
        return capabilities(cap.kind, base: cap.key + 1, count: cap.count - 1, aligned: false)
    }

    /// Whether `key ..< key + count` is a valid key range for `kind` (in a VM PD's space when `guest`).
    static func isValidRange(_ kind: CapabilityRange.Kind, base: UInt64, count: UInt64, guest: Bool = false) -> Bool {
        guard count > 0 else { return false }
        switch kind {
        case .object: return base < selectorLimit && count <= selectorLimit - base
        case .io: return base < portLimit && count <= portLimit - base
        case .memory where guest: return base < guestPageEnd && count <= guestPageEnd - base
        case .memory: return base >= firstUserPage && base < userPageEnd && count <= userPageEnd - base
        case .null: return false
        }
    }

    /// The capabilities of `kind` that overlap the aligned range `base ..< base + count`, in key order: at most one
    /// that covers it wholly, or those inside it. Walks whichever is smaller, the range or the holdings, so a huge
    /// sparse range costs no more than what the PD holds.
    func capabilities(_ kind: CapabilityRange.Kind, base: UInt64, count: UInt64,
                      aligned: Bool = true) -> [Capability] {
        let table: [UInt64: Capability]
        switch kind {
        case .object: table = objects
        case .memory: table = memory
        case .io: table = io
        case .null: return []
        }
        if aligned, kind != .object, let outer = covering(kind, base), outer.count >= count { return [outer] }
        var found: [Capability] = []
        if count <= UInt64(table.count) {
            var key = base
            while key < base + count {
                if let cap = table[key] {
                    found.append(cap)
                    key += cap.count
                } else {
                    key += 1
                }
            }
        } else {
            for (key, cap) in table where key >= base && key - base < count { found.append(cap) }
            found.sort { $0.key < $1.key }
        }
        return found
    }

    /// Whether nothing of `kind` overlaps the aligned range `base ..< base + count`.
    func isFree(_ kind: CapabilityRange.Kind, base: UInt64, count: UInt64) -> Bool {
        capabilities(kind, base: base, count: count).isEmpty
    }

    var all: [Capability] {
        var result: [Capability] = []
        for (_, c) in objects { result.append(c) }
        for (_, c) in memory { result.append(c) }
        for (_, c) in io { result.append(c) }
        return result
    }
}

/// How many ranges of each order (0 ..< 64) a space holds, with a bitmap of the orders present.
struct OrderCounts {
    private var counts: [UInt32] = []
    private(set) var present: UInt64 = 0

    mutating func add(_ order: UInt64) {
        if counts.isEmpty { counts = [UInt32](repeating: 0, count: 64) }
        counts[Int(order)] += 1
        present |= 1 << order
    }

    mutating func remove(_ order: UInt64) {
        precondition(!counts.isEmpty && counts[Int(order)] > 0, "kernel bug: order count underflow")
        counts[Int(order)] -= 1
        if counts[Int(order)] == 0 { present &= ~(1 << order) }
    }
}
