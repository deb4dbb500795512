import KernelABI

/// Revocation: removing capabilities together with everything derived from them, in every PD that holds a copy:
/// page mappings are removed (and their translations flushed), I/O ports disappear from the bitmap, and removing
/// an object's original capability destroys the object.
extension Kernel {
    /// revoke(crd, flags): rdi = how many of the caller's capabilities the range named.
    func revoke(by caller: ExecutionContext, range word: UInt64, flags: UInt64) throws(Failure) -> Completion {
        guard let crd = CapabilityRange(word: word), crd.kind != .null, crd.isAligned,
              CapabilitySpace.isValidRange(crd.kind, base: crd.base, count: crd.count),
              flags & ~RevokeFlags.includeSelf == 0 else { throw .badRange }
        let caps = caller.pd.space.capabilities(crd.kind, base: crd.base, count: crd.count)
        for cap in caps where cap.isLive {
            if flags & RevokeFlags.includeSelf != 0 {
                remove(cap)
            } else {
                for child in cap.children { remove(child) }
            }
        }
        return .value(UInt64(caps.count))
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
        pd.space[cap.kind, cap.key] = nil
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
        case .memory: unmapPage(in: pd, virtualPage: cap.key)
        case .io: pd.ioBitmap.set(cap.key, allowed: false)
        case .object:
            // Originals of objects are the creator's capabilities: their removal ends the object's life.
            if cap.isOriginal, let object = cap.object { destroy(object) }
        case .null: break
        }
    }
}
