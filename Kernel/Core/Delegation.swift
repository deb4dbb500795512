import KernelABI

/// Delegation: copying a subset of the caller's rights over a range into another PD. Each new capability becomes a
/// child of the one it came from in the mapping database, so revocation can find it. A range the source holds as
/// one capability is delegated as one capability, however large; delegating part of a capability makes a child
/// that covers just that part (the source stays whole: only revocation splits).
extension Kernel {
    /// delegate(pd, crd, dst_base): rdi = how many entries (selectors, pages, ports) were delegated.
    func delegate(by caller: ExecutionContext, pd selector: UInt64, range word: UInt64,
                  destination: UInt64) throws(Failure) -> Completion {
        let target = try resolvePD(caller.pd, selector, needs: Permissions.pdDelegate)
        guard let crd = CapabilityRange(word: word) else { throw .badRange }
        let made = try delegateRange(from: caller.pd, crd, to: target, at: destination)
        return .value(made.reduce(0) { $0 + $1.count })
    }

    /// One capability to be made: `order` entries of `parent`, from its key `sourceKey`, landing at `key`.
    private struct DelegationPart {
        let parent: Capability
        let sourceKey: UInt64
        let key: UInt64
        let order: UInt64
    }

    /// Delegates every capability the source holds in `crd` (keeping only `crd.permissions`) to `destination ...`
    /// in `target`. Empty source entries are skipped (a range names "whatever I hold there"). A destination range
    /// that overlaps what the target holds (or a UTCB) fails the whole operation. All or nothing.
    func delegateRange(from source: ProtectionDomain, _ crd: CapabilityRange, to target: ProtectionDomain,
                       at destination: UInt64) throws(Failure) -> [Capability] {
        let kind = crd.kind
        // Memory ranges land aligned to their size, so every capability stays aligned in both spaces (and can be
        // mapped with large pages); I/O keeps its port numbers.
        guard kind != .null, crd.permissions != 0, crd.isAligned,
              CapabilitySpace.isValidRange(kind, base: crd.base, count: crd.count),
              CapabilitySpace.isValidRange(kind, base: destination, count: crd.count, guest: target.isVM),
              kind != .memory || destination & (crd.count - 1) == 0,
              kind != .io || destination == crd.base else { throw .badRange }
        var parts: [DelegationPart] = []
        for cap in source.space.capabilities(kind, base: crd.base, count: crd.count)
        where Self.derivedPermissions(cap, crd) & ~(kind == .memory ? Permissions.device : 0) != 0 {
            let whole = cap.count <= crd.count
            let sourceKey = whole ? cap.key : crd.base
            let part = DelegationPart(parent: cap, sourceKey: sourceKey, key: destination + (sourceKey - crd.base),
                                      order: whole ? cap.order : crd.order)
            guard isFree(target, kind, base: part.key, count: 1 << part.order) else { throw .badSelector }
            parts.append(part)
        }
        var made: [Capability] = []
        for part in parts {
            let cap = part.parent
            let offset = part.sourceKey - cap.key
            let resource = cap.kind == .memory ? cap.resource + offset << AddressLayout.pageShift
                                                : cap.resource + (cap.kind == .io ? offset : 0)
            let child = Capability(kind: kind, holder: target, key: part.key, order: part.order, resource: resource,
                                   object: cap.object, permissions: Self.derivedPermissions(cap, crd), parent: cap)
            if kind == .memory, !map(child) {
                for undone in made.reversed() { remove(undone) }
                throw .outOfMemory
            }
            if kind == .io { target.ioBitmap.set(child.key, count: child.count, allowed: true) }
            target.space.insert(child)
            target.noteChange(kind, key: child.key)
            source.noteChange(kind, key: cap.key)
            cap.children.append(child)
            made.append(child)
        }
        return made
    }

    /// A child keeps the rights both the parent and the request have; device memory stays device memory (never
    /// cacheable), and nothing else becomes it.
    static func derivedPermissions(_ parent: Capability, _ crd: CapabilityRange) -> UInt64 {
        let kept = parent.permissions & crd.permissions
        guard parent.kind == .memory else { return kept }
        return kept & ~Permissions.device | parent.permissions & Permissions.device
    }

    /// Whether `base ..< base + count` of `kind` in `pd` overlaps neither a capability nor (memory) a UTCB page.
    func isFree(_ pd: ProtectionDomain, _ kind: CapabilityRange.Kind, base: UInt64, count: UInt64) -> Bool {
        guard pd.space.isFree(kind, base: base, count: count) else { return false }
        guard kind == .memory else { return true }
        if count == 1 { return pd.utcbPages[base] == nil }
        for (page, _) in pd.utcbPages where page >= base && page - base < count { return false }
        return true
    }
}
