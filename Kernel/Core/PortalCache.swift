/// A direct-mapped cache of "the portal behind selector s, which this EC may call" (Kernel.callablePortal), so a
/// repeated call or VM exit needs no capability-space lookup (hashing a selector costs ~150 instructions). Used for
/// an EC's last called portal and a vCPU's exit portals.
///
/// Invariant: an entry's capability is held by the cache and holds its portal, so an entry's link is valid while
/// the entry exists; an entry answers only while its capability is live and sits at the selector asked for (a live
/// capability always sits in its holder's slot at its key and its object and rights never change).
struct PortalCache {
    private var entries: [(capability: Capability, portal: Link<Portal>)?]
    private let mask: UInt64

    /// `size` entries (a power of two), slot = selector mod size.
    init(size: Int) {
        precondition(size > 0 && size & (size - 1) == 0, "kernel bug: portal cache size not a power of two")
        entries = Array(repeating: nil, count: size)
        mask = UInt64(size - 1)
    }

    @inline(__always)
    func portal(at selector: UInt64) -> Link<Portal>? {
        guard let entry = entries[Int(selector & mask)], entry.capability.isLive, entry.capability.key == selector else {
            return nil
        }
        return entry.portal
    }

    mutating func remember(_ capability: Capability, _ portal: Portal) {
        entries[Int(capability.key & mask)] = (capability, Link(portal))
    }

    /// Lets every held capability go (the EC is being destroyed).
    mutating func clear() {
        for i in entries.indices { entries[i] = nil }
    }
}
