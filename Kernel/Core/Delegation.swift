import KernelABI

/// Delegation: copying a subset of the caller's rights over a range into another PD. Each new capability becomes a
/// child of the one it came from in the mapping database, so revocation can find it.
extension Kernel {
    /// delegate(pd, crd, dst_base): rdi = how many capabilities were delegated.
    func delegate(by caller: ExecutionContext, pd selector: UInt64, range word: UInt64,
                  destination: UInt64) throws(Failure) -> Completion {
        let target = try resolvePD(caller.pd, selector, needs: Permissions.pdDelegate)
        guard let crd = CapabilityRange(word: word) else { throw .badRange }
        let made = try delegateRange(from: caller.pd, crd, to: target, at: destination)
        return .value(UInt64(made.count))
    }

    /// Delegates every capability the source holds in `crd` (keeping only `crd.permissions`) to `destination ...`
    /// in `target`. Empty source slots are skipped (a range names "whatever I hold there"); an occupied destination
    /// slot fails the whole operation. All or nothing.
    func delegateRange(from source: ProtectionDomain, _ crd: CapabilityRange, to target: ProtectionDomain,
                       at destination: UInt64) throws(Failure) -> [Capability] {
        let kind = crd.kind
        guard kind != .null, crd.permissions != 0, crd.isAligned,
              CapabilitySpace.isValidRange(kind, base: crd.base, count: crd.count),
              CapabilitySpace.isValidRange(kind, base: destination, count: crd.count),
              kind != .io || destination == crd.base else { throw .badRange }
        let sources = source.space.capabilities(kind, base: crd.base, count: crd.count)
        for cap in sources {
            let key = destination + (cap.key - crd.base)
            if target.space[kind, key] != nil || (kind == .memory && target.utcbPages[key] != nil) {
                throw .badSelector
            }
        }
        var made: [Capability] = []
        for cap in sources {
            let permissions = cap.permissions & crd.permissions
            guard permissions != 0 else { continue }
            let child = Capability(kind: kind, holder: target, key: destination + (cap.key - crd.base),
                                   resource: cap.resource, object: cap.object, permissions: permissions, parent: cap)
            if kind == .memory, !map(child) {
                for undone in made.reversed() { remove(undone) }
                throw .outOfMemory
            }
            if kind == .io { target.ioBitmap.set(child.key, allowed: true) }
            target.space[kind, child.key] = child
            target.noteChange(kind, key: child.key)
            source.noteChange(kind, key: cap.key)
            cap.children.append(child)
            made.append(child)
        }
        return made
    }
}
