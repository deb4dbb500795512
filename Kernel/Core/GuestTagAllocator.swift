/// Tagged-TLB IDs for VM PDs (ASIDs on SVM, VPIDs on VMX): 1 ... count, handed out on a VM's first entry and
/// recycled. When none is free, the oldest holder loses its tag (it gets a new one on its next entry) and every
/// tag's translations are flushed, since the machine may have no flush by tag (QEMU's SVM has 16 ASIDs and none).
///
/// Invariants: a tag is free or held by exactly one live VM PD (whose `guestTag` names it); `holders` is in
/// hand-out order.
struct GuestTagAllocator {
    let count: UInt64
    private var free: [UInt64]
    private var holders: [ProtectionDomain] = []
    /// How often a tag was taken from another VM (for tests and benchmarks).
    private(set) var recycled: UInt64 = 0

    init(count: UInt64) {
        self.count = count
        free = count == 0 ? [] : Array((1...count).reversed())
    }

    /// Gives `vm` a tag if it has none. `fresh`: the tag is new to `vm`, so what it cached for an earlier holder
    /// must go; `flushAll`: a tag was taken from another VM, so every tag's translations must go.
    mutating func assign(_ vm: ProtectionDomain) -> (tag: UInt64, fresh: Bool, flushAll: Bool) {
        if vm.guestTag != 0 { return (vm.guestTag, false, false) }
        precondition(count > 0, "kernel bug: a guest runs on a machine without guest tags")
        var flushAll = false
        if free.isEmpty {
            let victim = holders.removeFirst()
            free.append(victim.guestTag)
            victim.guestTag = 0
            recycled += 1
            flushAll = true
        }
        let tag = free.removeLast()
        vm.guestTag = tag
        holders.append(vm)
        return (tag, true, flushAll)
    }

    mutating func release(_ vm: ProtectionDomain) {
        guard vm.guestTag != 0 else { return }
        holders.removeAll { $0 === vm }
        free.append(vm.guestTag)
        vm.guestTag = 0
    }

    var heldTags: [(UInt64, ProtectionDomain)] { holders.map { ($0.guestTag, $0) } }
    var freeCount: Int { free.count }
}
