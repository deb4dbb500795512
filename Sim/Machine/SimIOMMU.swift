/// A simulated IOMMU: DMA remapping as VT-d does it without interrupt remapping. Each device (PCI requester ID) has
/// a context: the root of a 4-level second-level table (VT-d format: bit 0 read, bit 1 write, bit 7 a 2 MiB / 1 GiB
/// leaf, bits 12-51 the address; rights are the AND of every level) or none, and then its DMA is blocked. Blocked
/// accesses are recorded as faults with the device, address and VT-d fault reason, as the fault recording registers
/// do. Translations are cached per device page (the IOTLB) until the kernel flushes that table, so a kernel that
/// forgets to flush after a revoke is caught: the device still reaches the page.
public final class SimIOMMU {
    public struct Fault: Equatable, Sendable, CustomStringConvertible {
        public var requester: UInt64
        public var address: UInt64
        public var write: Bool
        public var reason: Reason
        public init(requester: UInt64, address: UInt64, write: Bool, reason: Reason) {
            self.requester = requester
            self.address = address
            self.write = write
            self.reason = reason
        }
        public var description: String {
            let bdf = "\(hex2(requester >> 8)):\(hex2((requester >> 3) & 0x1f)).\(requester & 7)"
            return "DMA fault: device \(bdf) \(write ? "write" : "read") at \(simHex(address)): \(reason)"
        }
    }

    /// VT-d fault reasons (spec 7.1.3, legacy mode), by number.
    public enum Reason: UInt8, Equatable, Sendable, CustomStringConvertible {
        case contextNotPresent = 0x2
        case addressBeyondWidth = 0x4
        case writeNotPermitted = 0x5
        case readNotPermitted = 0x6
        public var description: String {
            switch self {
            case .contextNotPresent: return "reason 0x2, the device has no context entry"
            case .addressBeyondWidth: return "reason 0x4, address beyond the 48-bit width"
            case .writeNotPermitted: return "reason 0x5, write not permitted"
            case .readNotPermitted: return "reason 0x6, read not permitted"
            }
        }
    }

    private struct CachedPage: Hashable { var requester: UInt64; var page: UInt64 }
    private struct Translation { var root: UInt64; var physicalPage: UInt64; var writable: Bool }

    let memory: SimPhysicalMemory
    public private(set) var contexts: [UInt64: UInt64] = [:]
    private var iotlb: [CachedPage: Translation] = [:]
    public private(set) var faults: [Fault] = []
    public private(set) var flushes = 0

    init(memory: SimPhysicalMemory) { self.memory = memory }

    /// How many distinct tables devices may be bound to at once (VT-d's domain IDs), nil: no limit.
    public var tableLimit: Int?

    /// The context entry of `requester`: its table, or blocked; its cached translations go. False (nothing changed)
    /// when that would bind more distinct tables than `tableLimit`.
    @discardableResult
    public func bind(_ requester: UInt64, root: UInt64?) -> Bool {
        if let root, let limit = tableLimit {
            var tables = Set(contexts.filter { $0.key != requester }.compactMap { $0.value })
            tables.insert(root)
            guard tables.count <= limit else { return false }
        }
        contexts[requester] = root
        iotlb = iotlb.filter { $0.key.requester != requester }
        return true
    }

    /// IOTLB invalidation of every translation through `root`.
    public func flush(root: UInt64) {
        flushes += 1
        iotlb = iotlb.filter { $0.value.root != root }
    }

    /// The physical address a device's access at `address` reaches, nil when blocked (then recorded in `faults`).
    public func translate(_ requester: UInt64, _ address: UInt64, write: Bool) -> UInt64? {
        let page = address >> 12
        func fault(_ reason: Reason) -> UInt64? {
            faults.append(Fault(requester: requester, address: address, write: write, reason: reason))
            return nil
        }
        if let cached = iotlb[CachedPage(requester: requester, page: page)], !write || cached.writable {
            return cached.physicalPage << 12 | address & 0xfff
        }
        guard let root = contexts[requester] else { return fault(.contextNotPresent) }
        guard address < 1 << 48 else { return fault(.addressBeyondWidth) }
        var table = root, writable = true
        for level in stride(from: 3, through: 0, by: -1) {
            let slot = table + ((address >> (12 + 9 * UInt64(level))) & 0x1ff) * 8
            let entry = (try? memory.read64(slot)) ?? 0
            guard entry & 1 != 0 else { return fault(write ? .writeNotPermitted : .readNotPermitted) }
            writable = writable && entry & 2 != 0
            if level == 0 || entry & 0x80 != 0 {
                guard !write || writable else { return fault(.writeNotPermitted) }
                let span: UInt64 = 1 << (12 + 9 * UInt64(level))
                let physical = entry & 0x000f_ffff_ffff_f000 & ~(span - 1) | address & (span - 1)
                iotlb[CachedPage(requester: requester, page: page)] =
                    Translation(root: root, physicalPage: physical >> 12, writable: writable)
                return physical
            }
            table = entry & 0x000f_ffff_ffff_f000
        }
        return nil
    }
}

private func hex2(_ v: UInt64) -> String {
    let s = String(v & 0xff, radix: 16)
    return s.count == 1 ? "0" + s : s
}
