import KernelABI

/// One capability held by one PD: a node of the mapping database (the derivation tree used for revocation).
/// Memory and I/O capabilities cover a naturally aligned range of `count = 2^order` entries; object capabilities
/// cover one selector (order 0).
///
/// Invariants:
/// - It sits in exactly one slot: `holder`'s space of `kind` at `key` (selector, first virtual page number, or
///   first port), and no other capability of that space overlaps `key ..< key + count`.
/// - Its range is aligned in both spaces: `key` and `resourceKey` are multiples of `count`. (Originals are made
///   so; a child of order `o` sits at an offset within its parent that is a multiple of `2^o`.)
/// - `parent == nil` only for originals: capabilities the kernel made at boot or for the creator of an object, or
///   the halves an original was split into. Otherwise `parent` is live, of the same kind, covers a superset of this
///   resource range, holds a superset of `permissions`, and lists this node in `children`. So every capability has
///   a derivation path to an original.
/// - Memory: `resource` is the physical address of the first page; the holder's page table maps virtual page
///   `key + i` to `resource + i * 4096` with exactly `permissions`, for every `i < count`. I/O: `resource == key`
///   is the first port, all `count` ports allowed in the holder's I/O bitmap. Object: `object` is alive.
/// - `permissions` is never 0. A memory capability is device memory (`Permissions.device`, mapped uncached)
///   exactly when its parent is: only the kernel's boot originals introduce it.
final class Capability {
    // The root holds few of these now (its memory and ports are ranges), but every PD's selectors are one each,
    // so the fields are still ordered to pack: words first, then bytes.
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
    /// log2 of the number of entries covered.
    let orderBits: UInt8
    var isLive = true
    /// Made by the kernel at boot or for an object's creator (or split from such), never derived.
    let isOriginal: Bool

    var permissions: UInt64 { UInt64(permissionBits) }
    var order: UInt64 { UInt64(orderBits) }
    var count: UInt64 { 1 << UInt64(orderBits) }
    /// One past the last key.
    var end: UInt64 { key + count }

    /// The first resource entry in key units: the physical page number (memory), the port (I/O), or 0 (objects).
    var resourceKey: UInt64 { kind == .memory ? resource >> AddressLayout.pageShift : (kind == .io ? resource : 0) }

    /// Whether the resource range of this capability and `base ..< base + count` (in resource keys) overlap.
    func resourceOverlaps(_ base: UInt64, count other: UInt64) -> Bool {
        resourceKey < base + other && base < resourceKey + count
    }

    init(kind: CapabilityRange.Kind, holder: ProtectionDomain, key: UInt64, order: UInt64 = 0, resource: UInt64,
         object: KernelObject?, permissions: UInt64, parent: Capability?, original: Bool? = nil) {
        precondition(permissions <= UInt64(UInt8.max), "kernel bug: permission bits beyond a CRD's")
        precondition(order < 52 && (kind != .object || order == 0), "kernel bug: capability order")
        self.kind = kind
        self.holder = holder
        self.key = key
        self.orderBits = UInt8(order)
        self.resource = resource
        self.object = object
        self.permissionBits = UInt8(permissions)
        self.parent = parent
        self.isOriginal = original ?? (parent == nil)
    }
}
