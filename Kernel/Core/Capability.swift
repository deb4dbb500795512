import KernelABI

/// One capability held by one PD: a node of the mapping database (the derivation tree used for revocation).
///
/// Invariants:
/// - It sits in exactly one slot: `holder`'s space of `kind` at `key` (selector, virtual page number, or port).
/// - `parent == nil` only for originals: capabilities the kernel made at boot or for the creator of an object.
///   Otherwise `parent` is live, of the same kind, names the same resource, holds a superset of `permissions`,
///   and lists this node in `children`. So every capability has a derivation path to an original.
/// - Memory: `resource` is the physical page address; the holder's page table maps virtual page `key` to it
///   with exactly `permissions`. I/O: `resource == key` is the port, allowed in the holder's I/O bitmap.
///   Object: `object` is alive.
/// - `permissions` is never 0.
final class Capability {
    // The root alone holds one of these per port and per page of RAM, so the fields are ordered to pack: words
    // first, then bytes: 16 bytes of object header, 6 words, 4 bytes = 68 (an 80-byte malloc block; was 96).
    let holder: ProtectionDomain
    let key: UInt64
    let resource: UInt64
    let object: KernelObject?
    /// Strong reference; the cycle with `children` is broken when the node is removed.
    var parent: Capability?
    /// Empty (no allocation) until something is derived from this capability.
    var children: [Capability] = []
    let kind: CapabilityRange.Kind
    /// Permission bits fit the 5 bits a CRD carries.
    private let permissionBits: UInt8
    var isLive = true
    /// Made by the kernel at boot or for an object's creator; never derived (fixed at creation).
    let isOriginal: Bool

    var permissions: UInt64 { UInt64(permissionBits) }

    init(kind: CapabilityRange.Kind, holder: ProtectionDomain, key: UInt64, resource: UInt64, object: KernelObject?,
         permissions: UInt64, parent: Capability?) {
        precondition(permissions <= UInt64(UInt8.max), "kernel bug: permission bits beyond a CRD's")
        self.kind = kind
        self.holder = holder
        self.key = key
        self.resource = resource
        self.object = object
        self.permissionBits = UInt8(permissions)
        self.parent = parent
        self.isOriginal = parent == nil
    }
}
