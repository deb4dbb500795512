import PCIBus

/// Where a modern (virtio 1.x) PCI device keeps its registers: vendor-specific capabilities (id 9, virtio 1.2
/// §4.1.4) naming a BAR, an offset and a length for the common configuration (type 1), the notification area
/// (type 2, with its offset multiplier), the ISR byte (type 3) and the device configuration (type 4). The first
/// capability of each type is the one to use (the spec lets a device offer alternatives after it).
struct VirtioPCICapabilities: Equatable {
    struct Region: Equatable {
        var bar: Int
        var offset: UInt64
        var length: UInt64
    }

    var common: Region
    var notify: Region
    var notifyMultiplier: UInt32
    var isr: Region
    var device: Region

    static let vendorCapability: UInt8 = 0x09

    /// The common configuration's fields this driver uses, and what each region must hold at least.
    static let commonLength: UInt64 = 56
    static let deviceLength: UInt64 = 8 // virtio-blk: capacity

    enum Problem: Error, Equatable, CustomStringConvertible {
        case missing(type: UInt8)
        case badBAR(type: UInt8, bar: Int)
        case tooShort(type: UInt8, length: UInt64)

        var description: String {
            switch self {
            case .missing(let t): return "no virtio capability of type \(t) (\(VirtioPCICapabilities.name(t)))"
            case let .badBAR(t, bar): return "the \(VirtioPCICapabilities.name(t)) is in BAR \(bar), which is not a granted memory BAR"
            case let .tooShort(t, n): return "the \(VirtioPCICapabilities.name(t)) is \(n) bytes, too short"
            }
        }
    }

    static func name(_ type: UInt8) -> String {
        switch type {
        case 1: return "common configuration"
        case 2: return "notification area"
        case 3: return "ISR status"
        case 4: return "device configuration"
        default: return "type \(type)"
        }
    }

    /// Reads the capability list; `isMemoryBAR(i)` says whether BAR i is a memory BAR the driver can reach.
    static func read<C: PCIConfigAccess>(_ config: C, _ address: PCIAddress,
                                         isMemoryBAR: (Int) -> Bool) -> Result<VirtioPCICapabilities, Problem> {
        var found: [UInt8: (Region, UInt32)] = [:]
        for cap in PCICapability.list(config, address) where cap.id == vendorCapability && cap.offset <= 0xec {
            let o = cap.offset
            let type = config.read8(address, o + 3)
            guard (1...4).contains(type), found[type] == nil else { continue }
            let region = Region(bar: Int(config.read8(address, o + 4)), offset: UInt64(config.read32(address, o + 8)),
                                length: UInt64(config.read32(address, o + 12)))
            let multiplier = type == 2 && o <= 0xe8 ? config.read32(address, o + 16) : 0
            found[type] = (region, multiplier)
        }
        let minimum: [UInt8: UInt64] = [1: commonLength, 2: 2, 3: 1, 4: deviceLength]
        for type in UInt8(1)...4 {
            guard let (region, _) = found[type] else { return .failure(.missing(type: type)) }
            guard region.bar < PCIConfig.barCount, isMemoryBAR(region.bar) else {
                return .failure(.badBAR(type: type, bar: region.bar))
            }
            guard region.length >= minimum[type]! else { return .failure(.tooShort(type: type, length: region.length)) }
        }
        return .success(VirtioPCICapabilities(common: found[1]!.0, notify: found[2]!.0, notifyMultiplier: found[2]!.1,
                                              isr: found[3]!.0, device: found[4]!.0))
    }
}
