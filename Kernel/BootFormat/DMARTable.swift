/// The ACPI DMA remapping table ("DMAR"): the machine's Intel VT-d IOMMUs (DMA remapping hardware units, DRHD) and
/// the memory firmware-owned devices keep using (reserved memory regions, RMRR). The kernel reads it at boot to say
/// whether DMA and MSI can be confined (Kernel/X86/DMAConfinement.swift).
///
/// Invariants (checked by `init(table:)`, which rejects tables that break them): at least one remapping unit, every
/// unit's register base page-aligned and non-zero, every reserved region page-aligned with base <= limit.
public struct DMARTable: Equatable, Sendable {
    public struct RemappingUnit: Equatable, Sendable {
        public var segment: UInt16
        /// Physical address of the unit's 4 KiB register page.
        public var registerBase: UInt64
        /// INCLUDE_PCI_ALL: the unit translates every device of its segment not named by another unit.
        public var includesAllDevices: Bool
        /// The IOAPICs whose interrupts the unit remaps (device scope type 3): their source ID (requester) in
        /// interrupt requests, by IOAPIC id. Only scopes with a one-hop path (a device on the start bus) are listed.
        public var ioapics: [IOAPICScope]
        public init(segment: UInt16, registerBase: UInt64, includesAllDevices: Bool, ioapics: [IOAPICScope] = []) {
            self.segment = segment
            self.registerBase = registerBase
            self.includesAllDevices = includesAllDevices
            self.ioapics = ioapics
        }
    }

    public struct IOAPICScope: Equatable, Sendable {
        public var id: UInt8
        /// bus << 8 | device << 3 | function, as the IOAPIC's interrupt requests carry it.
        public var sourceID: UInt16
        public init(id: UInt8, sourceID: UInt16) {
            self.id = id
            self.sourceID = sourceID
        }
    }

    public struct ReservedRegion: Equatable, Sendable {
        public var segment: UInt16
        public var base: UInt64
        /// The last byte of the region (inclusive, as the table gives it).
        public var limit: UInt64
        public init(segment: UInt16, base: UInt64, limit: UInt64) {
            self.segment = segment
            self.base = base
            self.limit = limit
        }
    }

    /// Bits of DMA address the units take (the table's field + 1).
    public var hostAddressWidth: Int
    /// Flags bit 0: the platform supports interrupt remapping.
    public var interruptRemapping: Bool
    public var units: [RemappingUnit]
    public var reservedRegions: [ReservedRegion]

    public init(table: [UInt8]) throws(DMARError) {
        let headerSize = 48
        let length: Int
        switch ACPITableHeader.check(table, signature: [0x44, 0x4d, 0x41, 0x52], headerSize: headerSize) {
        case .success(let n): length = n
        case .failure(let problem): throw DMARError(problem)
        }
        hostAddressWidth = Int(table[36]) + 1
        interruptRemapping = table[37] & 1 != 0
        units = []
        reservedRegions = []
        var offset = headerSize
        while offset < length {
            guard offset + 4 <= length else { throw .structureOutOfBounds(offset: offset) }
            let type = ACPITableHeader.u16(table, offset), size = Int(ACPITableHeader.u16(table, offset + 2))
            guard size >= 4, offset + size <= length else { throw .structureOutOfBounds(offset: offset) }
            switch type {
            case 0: // DRHD: flags, size, segment, register base, device scopes
                guard size >= 16 else { throw .structureTooShort(offset: offset, type: type, length: size) }
                let base = ACPITableHeader.u64(table, offset + 8)
                guard base != 0, base & 0xfff == 0 else { throw .badRegisterBase(offset: offset, base: base) }
                units.append(RemappingUnit(segment: ACPITableHeader.u16(table, offset + 6), registerBase: base,
                                           includesAllDevices: table[offset + 4] & 1 != 0,
                                           ioapics: try Self.ioapicScopes(table, from: offset + 16, to: offset + size)))
            case 1: // RMRR: reserved, segment, base, limit, device scopes
                guard size >= 24 else { throw .structureTooShort(offset: offset, type: type, length: size) }
                let base = ACPITableHeader.u64(table, offset + 8), limit = ACPITableHeader.u64(table, offset + 16)
                guard base & 0xfff == 0, limit & 0xfff == 0xfff, base <= limit else {
                    throw .badReservedRegion(offset: offset, base: base, limit: limit)
                }
                reservedRegions.append(ReservedRegion(segment: ACPITableHeader.u16(table, offset + 6), base: base, limit: limit))
            default: break // ATSR, RHSA, ANDD, SATC: nothing the kernel uses
            }
            offset += size
        }
        guard !units.isEmpty else { throw .noRemappingUnit }
    }

    /// The boot line's text: "1 remapping unit (0xfed90000 all devices), 48-bit addresses, interrupt remapping".
    public var summary: String {
        var text = "\(units.count) remapping unit\(units.count == 1 ? "" : "s") ("
        for (i, u) in units.enumerated() {
            text += (i == 0 ? "" : ", ") + "0x" + String(u.registerBase, radix: 16)
                + (u.includesAllDevices ? " all devices" : "")
        }
        text += "), \(hostAddressWidth)-bit addresses"
        if interruptRemapping { text += ", interrupt remapping" }
        if !reservedRegions.isEmpty { text += ", \(reservedRegions.count) reserved regions" }
        return text
    }

    /// The IOAPIC device scopes among a unit's scopes (each: type, length, 2 reserved, enumeration ID, start bus,
    /// then a (device, function) pair per hop).
    private static func ioapicScopes(_ table: [UInt8], from start: Int, to end: Int) throws(DMARError) -> [IOAPICScope] {
        var found: [IOAPICScope] = []
        var offset = start
        while offset < end {
            guard offset + 2 <= end else { throw .structureOutOfBounds(offset: offset) }
            let type = table[offset], length = Int(table[offset + 1])
            guard length >= 6, length % 2 == 0, offset + length <= end else {
                throw .badDeviceScope(offset: offset, length: length)
            }
            if type == 3, length == 8 {
                let bus = UInt16(table[offset + 5]), device = UInt16(table[offset + 6]), function = UInt16(table[offset + 7])
                guard device < 32, function < 8 else { throw .badDeviceScope(offset: offset, length: length) }
                found.append(IOAPICScope(id: table[offset + 4], sourceID: bus << 8 | device << 3 | function))
            }
            offset += length
        }
        return found
    }
}

/// Why a DMAR table was rejected (the kernel then says at boot that DMA and MSI are not confined, and why).
public enum DMARError: ACPITableError, Equatable, Sendable, CustomStringConvertible {
    case truncated(length: Int)
    case badSignature
    case badLength(Int)
    case badChecksum
    case structureOutOfBounds(offset: Int)
    case structureTooShort(offset: Int, type: UInt16, length: Int)
    case badRegisterBase(offset: Int, base: UInt64)
    case badReservedRegion(offset: Int, base: UInt64, limit: UInt64)
    case badDeviceScope(offset: Int, length: Int)
    case noRemappingUnit

    public var description: String {
        switch self {
        case let .truncated(n): return "DMAR of \(n) bytes is shorter than its 48-byte header"
        case .badSignature: return "DMAR signature is not \"DMAR\""
        case let .badLength(n): return "DMAR length \(n) is outside its header and the mapped table"
        case .badChecksum: return "DMAR checksum does not add up to zero"
        case let .structureOutOfBounds(offset):
            return "DMAR structure at offset \(offset) runs past the table (or is shorter than 4 bytes)"
        case let .structureTooShort(offset, type, length):
            return "DMAR structure of type \(type) at offset \(offset) is \(length) bytes, too short for its fields"
        case let .badRegisterBase(offset, base):
            return "DMAR remapping unit at offset \(offset) has register base 0x\(String(base, radix: 16)) (not a non-zero page)"
        case let .badReservedRegion(offset, base, limit):
            return "DMAR reserved region at offset \(offset) is 0x\(String(base, radix: 16))...0x\(String(limit, radix: 16)) (not whole pages)"
        case let .badDeviceScope(offset, length):
            return "DMAR device scope at offset \(offset) of \(length) bytes is malformed (or runs past its unit)"
        case .noRemappingUnit: return "DMAR lists no remapping unit"
        }
    }
}
