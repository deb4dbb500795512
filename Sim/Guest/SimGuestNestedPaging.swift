/// One guest-physical page as the hypervisor's nested page tables map it.
public struct SimGuestNestedMapping: Equatable, Sendable {
    /// Host-physical page address in the machine's `SimPhysicalMemory`.
    public var hostPhysical: UInt64
    public var read: Bool
    public var write: Bool
    public var execute: Bool

    public init(hostPhysical: UInt64, read: Bool = true, write: Bool = true, execute: Bool = true) {
        self.hostPhysical = hostPhysical
        self.read = read
        self.write = write
        self.execute = execute
    }

    func allows(_ access: SimGuestAccess) -> Bool {
        switch access {
        case .read: return read
        case .write: return write
        case .execute: return execute
        }
    }
}

/// The nested page tables, asked on a TLB miss: guest-physical page address -> mapping, nil when not mapped.
/// The caller's tables stay the authority; the guest CPU only caches what it was told (`SimGuestTLB`).
public typealias SimGuestNestedLookup = (_ guestPhysicalPage: UInt64) -> SimGuestNestedMapping?

/// A tagged TLB of nested translations: what the vCPU used stays cached per ASID until the hypervisor flushes it,
/// exactly as hardware behaves, so a revoke without an invalidation shows up as a stale mapping in a test.
final class SimGuestTLB {
    private var entries: [UInt32: [UInt64: SimGuestNestedMapping]] = [:]

    func lookup(asid: UInt32, page: UInt64) -> SimGuestNestedMapping? { entries[asid]?[page] }

    func insert(asid: UInt32, page: UInt64, _ mapping: SimGuestNestedMapping) { entries[asid, default: [:]][page] = mapping }

    /// Drops one ASID's translations; returns the pages that were cached.
    @discardableResult
    func flush(asid: UInt32) -> [UInt64] { entries.removeValue(forKey: asid).map { Array($0.keys) } ?? [] }

    func flushAll() { entries = [:] }

    func pages(asid: UInt32) -> [UInt64: SimGuestNestedMapping] { entries[asid] ?? [:] }

    func count(asid: UInt32) -> Int { entries[asid]?.count ?? 0 }
}
