/// How each of the kernel's interrupt lines reaches the IOAPIC, read from the ACPI MADT ("APIC" table).
///
/// The kernel numbers lines as the PC does: ISA IRQs 0..15, then the PCI lines 16..<`lineCount`. An ISA IRQ is
/// at the IOAPIC pin (GSI) of the same number, edge-triggered and active-high, unless an interrupt source override
/// moves it or gives it another trigger mode or polarity (QEMU q35: IRQ 0 at GSI 2; IRQs 5, 9, 10, 11 level,
/// active-high). PCI lines are level, active-low at their own pin unless an override targets that pin. A line whose
/// pin an override gave to another IRQ has no pin (`lines[irq] == nil`: IRQ 2 on q35).
///
/// Invariants (checked by `init(madt:)`, which rejects tables that break them): no two lines share a pin, every pin
/// is below `lineCount`, at most one override per ISA IRQ.
public struct InterruptRouting: Equatable, Sendable {
    public static let lineCount = 24

    public struct Line: Equatable, Sendable {
        public var gsi: UInt32
        public var level: Bool
        public var activeLow: Bool
        public init(gsi: UInt32, level: Bool, activeLow: Bool) {
            self.gsi = gsi
            self.level = level
            self.activeLow = activeLow
        }
    }

    /// An interrupt source override as the table gives it (ISA bus).
    public struct Override: Equatable, Sendable {
        public var irq: UInt8
        public var gsi: UInt32
        public var level: Bool
        public var activeLow: Bool
    }

    /// By kernel irq number, `lineCount` entries.
    public private(set) var lines: [Line?]
    public private(set) var overrides: [Override]

    /// No MADT: every line at its own pin, ISA edge/active-high, PCI level/active-low.
    public static let standard = InterruptRouting(overrides: [])

    private init(overrides: [Override]) {
        self.overrides = overrides
        lines = (0..<Self.lineCount).map { irq in
            Line(gsi: UInt32(irq), level: irq >= 16, activeLow: irq >= 16)
        }
        for o in overrides {
            // The IRQ whose identity pin the override takes loses it (unless it is the override's own IRQ).
            for irq in 0..<Self.lineCount where irq != Int(o.irq) && lines[irq]?.gsi == o.gsi { lines[irq] = nil }
            lines[Int(o.irq)] = Line(gsi: o.gsi, level: o.level, activeLow: o.activeLow)
        }
    }

    /// Reads the MADT (the whole table, header included): its checksum, its entries' lengths, and each interrupt
    /// source override. Anything malformed or beyond what the kernel can route is an error naming it.
    public init(madt table: [UInt8]) throws(MADTError) {
        let headerSize = 44
        let length: Int
        switch ACPITableHeader.check(table, signature: [0x41, 0x50, 0x49, 0x43], headerSize: headerSize) {
        case .success(let n): length = n
        case .failure(let problem): throw MADTError(problem)
        }
        var found: [Override] = []
        var offset = headerSize
        while offset < length {
            guard offset + 2 <= length else { throw .entryOutOfBounds(offset: offset) }
            let type = table[offset], size = Int(table[offset + 1])
            guard size >= 2, offset + size <= length else { throw .entryOutOfBounds(offset: offset) }
            if type == 2 { // interrupt source override: bus, source, GSI (u32), flags (u16)
                guard size == 10 else { throw .badOverrideLength(offset: offset, length: size) }
                let bus = table[offset + 2], source = table[offset + 3]
                let gsi = ACPITableHeader.u32(table, offset + 4)
                let flags = UInt16(table[offset + 8]) | UInt16(table[offset + 9]) << 8
                guard bus == 0, source < 16 else { throw .badOverrideSource(offset: offset, bus: bus, irq: source) }
                guard gsi < UInt32(Self.lineCount) else { throw .gsiBeyondLines(irq: source, gsi: gsi) }
                let polarity = flags & 3, trigger = (flags >> 2) & 3
                guard polarity != 2, trigger != 2 else { throw .reservedFlags(irq: source, flags: flags) }
                guard !found.contains(where: { $0.irq == source }) else { throw .duplicateOverride(irq: source) }
                guard !found.contains(where: { $0.gsi == gsi }) else { throw .sharedGSI(gsi: gsi) }
                // 0 = conforming to the bus: ISA is edge, active-high.
                found.append(Override(irq: source, gsi: gsi, level: trigger == 3, activeLow: polarity == 3))
            }
            offset += size
        }
        self.init(overrides: found)
    }

    /// The boot line's text: "irq 0 -> gsi 2 edge/high, irq 5 level/high, ..." ("none" without overrides).
    public var overrideSummary: String {
        guard !overrides.isEmpty else { return "none" }
        var parts: [String] = []
        for o in overrides {
            let pin = o.gsi == UInt32(o.irq) ? "" : " -> gsi \(o.gsi)"
            parts.append("irq \(o.irq)\(pin) \(o.level ? "level" : "edge")/\(o.activeLow ? "low" : "high")")
        }
        var text = ""
        for (i, p) in parts.enumerated() { text += (i == 0 ? "" : ", ") + p }
        return text
    }
}

/// Why an MADT was rejected (the kernel then says so at boot and routes every line the standard way).
public enum MADTError: ACPITableError, Equatable, Sendable, CustomStringConvertible {
    case truncated(length: Int)
    case badSignature
    case badLength(Int)
    case badChecksum
    case entryOutOfBounds(offset: Int)
    case badOverrideLength(offset: Int, length: Int)
    case badOverrideSource(offset: Int, bus: UInt8, irq: UInt8)
    case gsiBeyondLines(irq: UInt8, gsi: UInt32)
    case reservedFlags(irq: UInt8, flags: UInt16)
    case duplicateOverride(irq: UInt8)
    case sharedGSI(gsi: UInt32)

    public var description: String {
        switch self {
        case let .truncated(n): return "MADT of \(n) bytes is shorter than its 44-byte header"
        case .badSignature: return "MADT signature is not \"APIC\""
        case let .badLength(n): return "MADT length \(n) is outside its header and the mapped table"
        case .badChecksum: return "MADT checksum does not add up to zero"
        case let .entryOutOfBounds(offset): return "MADT entry at offset \(offset) runs past the table (or is shorter than 2 bytes)"
        case let .badOverrideLength(offset, length):
            return "MADT interrupt source override at offset \(offset) is \(length) bytes (expected 10)"
        case let .badOverrideSource(offset, bus, irq):
            return "MADT interrupt source override at offset \(offset) names bus \(bus) irq \(irq) (expected ISA bus 0, irq 0..15)"
        case let .gsiBeyondLines(irq, gsi):
            return "MADT moves irq \(irq) to gsi \(gsi), beyond the \(InterruptRouting.lineCount) lines the kernel routes"
        case let .reservedFlags(irq, flags): return "MADT override of irq \(irq) has reserved flags \(flags)"
        case let .duplicateOverride(irq): return "MADT overrides irq \(irq) twice"
        case let .sharedGSI(gsi): return "MADT routes two irqs to gsi \(gsi)"
        }
    }
}
