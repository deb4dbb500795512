import KernelABI

/// A simulated IOMMU: DMA remapping as VT-d does it, and (when installed with it) interrupt remapping. Each device
/// (PCI requester ID) has a context: the root of a 4-level second-level table (VT-d format: bit 0 read, bit 1 write, bit 7 a 2 MiB / 1 GiB
/// leaf, bits 12-51 the address; rights are the AND of every level) or none, and then its DMA is blocked. Blocked
/// accesses are recorded as faults with the device, address and VT-d fault reason, as the fault recording registers
/// do. Translations are cached per device page (the IOTLB) until the kernel flushes that table, so a kernel that
/// forgets to flush after a revoke is caught: the device still reaches the page.
///
/// Interrupt remapping (VT-d chapter 5, compatibility format blocked): a device's write into the interrupt window
/// must be a remappable-format message naming an entry of the remapping table (`tableSize` entries of 128 bits,
/// the layout of VT-d 9.10, decoded here from the bits): present, and, when it validates its source, naming the
/// writing device. Otherwise the message is blocked and recorded as a fault with reason 0x20-0x26. Entries are
/// cached (the interrupt entry cache) until `invalidateEntry`, so a platform that forgets to invalidate after
/// changing one is caught: the old entry still decides.
public final class SimIOMMU {
    public struct Fault: Error, Equatable, Sendable, CustomStringConvertible {
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
            if reason.isInterruptRemapping {
                return "interrupt remapping fault: device \(bdf) message with handle \(address): \(reason)"
            }
            return "DMA fault: device \(bdf) \(write ? "write" : "read") at \(simHex(address)): \(reason)"
        }
    }

    /// VT-d fault reasons (spec 7.1.3, legacy mode), by number.
    public enum Reason: UInt8, Equatable, Sendable, CustomStringConvertible {
        case contextNotPresent = 0x2
        case addressBeyondWidth = 0x4
        case writeNotPermitted = 0x5
        case readNotPermitted = 0x6
        case reservedRequestBits = 0x20
        case handleBeyondTable = 0x21
        case entryNotPresent = 0x22
        case compatibilityBlocked = 0x25
        case sourceInvalid = 0x26
        public var isInterruptRemapping: Bool { rawValue >= 0x20 }
        public var description: String {
            switch self {
            case .contextNotPresent: return "reason 0x2, the device has no context entry"
            case .addressBeyondWidth: return "reason 0x4, address beyond the 48-bit width"
            case .writeNotPermitted: return "reason 0x5, write not permitted"
            case .readNotPermitted: return "reason 0x6, read not permitted"
            case .reservedRequestBits: return "reason 0x20, reserved bits set in the request"
            case .handleBeyondTable: return "reason 0x21, handle beyond the remapping table"
            case .entryNotPresent: return "reason 0x22, the remapping entry is not present"
            case .compatibilityBlocked: return "reason 0x25, compatibility-format interrupt blocked"
            case .sourceInvalid: return "reason 0x26, the entry admits another requester"
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

    init(memory: SimPhysicalMemory, interruptRemapping: Bool = false) {
        self.memory = memory
        self.interruptRemapping = interruptRemapping
    }

    // MARK: interrupt remapping

    /// Whether messages are remapped (and compatibility-format ones blocked).
    public let interruptRemapping: Bool
    public static let tableSize: UInt64 = 256
    /// The remapping table as written (by handle; absent: all zero), and the entries the unit has cached.
    private var table: [UInt64: (low: UInt64, high: UInt64)] = [:]
    private var entryCache: [UInt64: (low: UInt64, high: UInt64)] = [:]
    public private(set) var entryInvalidations = 0

    /// The platform writes entry `handle` of the table (not seen by the unit until `invalidateEntry(handle)` if
    /// it had cached the entry).
    public func writeEntry(_ handle: UInt64, low: UInt64, high: UInt64) {
        precondition(handle < Self.tableSize, "simulator: remapping entry \(handle) beyond the table")
        table[handle] = (low, high)
    }

    /// The entry as the table holds it (what the platform wrote last).
    public func entry(_ handle: UInt64) -> (low: UInt64, high: UInt64) { table[handle] ?? (0, 0) }

    /// Interrupt entry cache invalidation of one entry.
    public func invalidateEntry(_ handle: UInt64) {
        entryInvalidations += 1
        entryCache[handle] = nil
    }

    /// Remaps a message written by `requester`: the compatibility-format message the remapping entry turns it into,
    /// or the fault that blocked it (also recorded in `faults`).
    public func remap(_ requester: UInt64, address: UInt64, data: UInt32) -> Result<MessageInterrupt, Fault> {
        func blocked(_ reason: Reason, _ handle: UInt64 = 0) -> Result<MessageInterrupt, Fault> {
            let fault = Fault(requester: requester, address: handle, write: true, reason: reason)
            faults.append(fault)
            return .failure(fault)
        }
        guard address >> 20 == 0xfee else { return blocked(.reservedRequestBits) }
        guard address & 1 << 4 != 0 else { return blocked(.compatibilityBlocked) }
        var handle = (address >> 5) & 0x7fff | (address >> 2 & 1) << 15
        if address & 1 << 3 != 0 { // subhandle valid: data bits 0-15 are added, the upper half is reserved
            guard data >> 16 == 0 else { return blocked(.reservedRequestBits, handle) }
            handle += UInt64(data & 0xffff)
        }
        guard handle < Self.tableSize else { return blocked(.handleBeyondTable, handle) }
        let entry = entryCache[handle] ?? table[handle] ?? (0, 0)
        entryCache[handle] = entry
        guard entry.low & 1 != 0 else { return blocked(.entryNotPresent, handle) }
        switch (entry.high >> 18) & 3 { // source validation type
        case 0: break
        case 1:
            let mask: UInt64 = [0xffff, 0xfffb, 0xfff9, 0xfff8][Int((entry.high >> 16) & 3)]
            guard entry.high & mask == requester & mask else { return blocked(.sourceInvalid, handle) }
        default: return blocked(.sourceInvalid, handle) // bus ranges are not used by this kernel
        }
        let vector = (entry.low >> 16) & 0xff, delivery = (entry.low >> 5) & 7, destination = (entry.low >> 40) & 0xff
        return .success(MessageInterrupt(address: MessageInterrupt.x86Window.lowerBound | destination << 12,
                                         data: vector | delivery << 8 | 1 << 14))
    }

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
