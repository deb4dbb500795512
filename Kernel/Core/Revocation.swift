import KernelABI

/// Revocation: removing capabilities together with everything derived from them, in every PD that holds a copy:
/// page mappings are removed (and their translations flushed), I/O ports disappear from the bitmap, and removing
/// an object's original capability destroys the object.
///
/// Revoking part of a range removes exactly that part, in the caller's capability and in every capability derived
/// from it (compared by resource: physical pages or ports). A capability only partly inside the revoked part is
/// first split into its two halves, again and again, until each piece is wholly inside or outside (`split`).
extension Kernel {
    /// revoke(crd, flags): rdi = how many entries of the caller's capabilities the range named.
    func revoke(by caller: ExecutionContext, range word: UInt64, flags: UInt64) throws(Failure) -> Completion {
        guard let crd = CapabilityRange(word: word), crd.kind != .null, crd.isAligned,
              CapabilitySpace.isValidRange(crd.kind, base: crd.base, count: crd.count),
              flags & ~RevokeFlags.includeSelf == 0 else { throw .badRange }
        var pending = Array(caller.pd.space.capabilities(crd.kind, base: crd.base, count: crd.count).reversed())
        var named: UInt64 = 0
        for cap in pending { named += min(cap.count, crd.count) }
        while let cap = pending.popLast() {
            // Part of the range, in keys: all of `cap`, or the range inside it (both are aligned).
            let base = cap.count <= crd.count ? cap.key : crd.base
            let count = min(cap.count, crd.count)
            guard cap.isLive else {
                // Split on the way (it derives from a capability revoked before it): take its pieces instead.
                // Carving is idempotent, so a piece seen twice costs time, not correctness.
                pending += caller.pd.space.capabilities(crd.kind, base: base, count: count).reversed()
                continue
            }
            let resourceBase = cap.resourceKey + (base - cap.key)
            if flags & RevokeFlags.includeSelf != 0 {
                carve(cap, resourceBase: resourceBase, count: count)
            } else {
                for child in cap.children { carve(child, resourceBase: resourceBase, count: count) }
            }
        }
        return .value(named)
    }

    /// Removes the resource range `base ..< base + count` (aligned to its size) from `cap` and everything derived
    /// from it. Iterative: splits follow the path down to the range, removals go through `remove`.
    func carve(_ cap: Capability, resourceBase base: UInt64, count: UInt64) {
        var work: [Capability] = [cap]
        while let next = work.popLast() {
            guard next.isLive, next.resourceOverlaps(base, count: count) else { continue }
            if base <= next.resourceKey && next.resourceKey + next.count <= base + count {
                remove(next)
            } else {
                // The range lies strictly inside `next` (both are aligned): one of its halves holds it.
                let (low, high) = split(next)
                work.append(low)
                work.append(high)
            }
        }
    }

    /// Replaces a memory or I/O capability by its two halves, in the same slot range, with the same rights and the
    /// same parent (or as originals). Its children go to the half that holds them; a child as large as `cap` (the
    /// whole range delegated) is split the same way, and so on down the derivation tree. Mappings do not change.
    @discardableResult
    func split(_ cap: Capability) -> (Capability, Capability) {
        precondition(cap.kind != .object && cap.order > 0 && cap.isLive, "kernel bug: splitting \(cap.kind)")
        var result: (Capability, Capability)?
        // (capability to split, the halves' parent: nil for the top of this split)
        var work: [(Capability, (Capability, Capability)?)] = [(cap, nil)]
        while let (next, parentHalves) = work.popLast() {
            let halves = splitOne(next, parentHalves: parentHalves)
            if result == nil { result = halves }
            for child in next.children {
                if child.order == next.order {
                    work.append((child, halves))
                } else {
                    let half = child.resourceKey < halves.1.resourceKey ? halves.0 : halves.1
                    child.parent = half
                    half.children.append(child)
                    child.holder.noteChange(child.kind, key: child.key)
                }
            }
            next.children = []
        }
        guard let result else { preconditionFailure("kernel bug: split made nothing") }
        return result
    }

    /// Makes the two halves of `cap`, puts them in its slots and its parent's children (or under `parentHalves`,
    /// when `cap`'s parent is being split too), and retires `cap`. Children are the caller's to move.
    private func splitOne(_ cap: Capability, parentHalves: (Capability, Capability)?) -> (Capability, Capability) {
        let pd = cap.holder
        let order = cap.order - 1
        let half = UInt64(1) << order
        let resourceStep = cap.kind == .memory ? half << AddressLayout.pageShift : half
        var parents: (Capability?, Capability?) = (cap.parent, cap.parent)
        if let parentHalves { parents = parentHalves }
        let low = Capability(kind: cap.kind, holder: pd, key: cap.key, order: order, resource: cap.resource,
                             object: nil, permissions: cap.permissions, parent: parents.0, original: cap.isOriginal)
        let high = Capability(kind: cap.kind, holder: pd, key: cap.key + half, order: order,
                              resource: cap.resource + resourceStep, object: nil, permissions: cap.permissions,
                              parent: parents.1, original: cap.isOriginal)
        if parentHalves == nil, let parent = cap.parent {
            parent.children.removeAll { $0 === cap }
            parent.children.append(low)
            parent.children.append(high)
            parent.holder.noteChange(parent.kind, key: parent.key)
        } else if let parentHalves {
            parentHalves.0.children.append(low)
            parentHalves.1.children.append(high)
        }
        cap.isLive = false
        cap.parent = nil
        pd.space.remove(cap)
        pd.space.insert(low)
        pd.space.insert(high)
        pd.noteChange(cap.kind, key: low.key)
        pd.noteChange(cap.kind, key: high.key)
        return (low, high)
    }

    /// Removes `cap` and its whole subtree, children before parents (iteratively: delegation chains can be long).
    func remove(_ cap: Capability) {
        guard cap.isLive else { return }
        var stack: [Capability] = [cap]
        var order: [Capability] = []
        while let next = stack.popLast() {
            order.append(next)
            stack += next.children
        }
        for node in order.reversed() where node.isLive { detach(node) }
    }

    /// Takes one capability out of its PD and the mapping database and undoes what it granted.
    private func detach(_ cap: Capability) {
        cap.isLive = false
        let pd = cap.holder
        pd.space.remove(cap)
        pd.noteChange(cap.kind, key: cap.key)
        if let parent = cap.parent {
            parent.holder.noteChange(parent.kind, key: parent.key)
            parent.children.removeAll { $0 === cap }
            cap.parent = nil
        }
        for child in cap.children {
            child.holder.noteChange(child.kind, key: child.key)
            child.parent = nil
        }
        cap.children = []
        switch cap.kind {
        case .memory:
            unmapPages(in: pd, virtualPage: cap.key, pages: cap.count)
            unmapDMA(in: pd, virtualPage: cap.key, pages: cap.count)
        case .io: pd.ioBitmap.set(cap.key, count: cap.count, allowed: false)
        case .object:
            // Originals of objects are the creator's capabilities: their removal ends the object's life.
            if cap.isOriginal, let object = cap.object { destroy(object) }
        case .null: break
        }
    }
}
