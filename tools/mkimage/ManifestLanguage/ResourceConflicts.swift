import ManifestFormat

/// Device resources are exclusive: no I/O port, MMIO page or interrupt may be granted twice, whether to two
/// components or twice to the same one. The later claim is reported, pointing at the earlier.
enum ResourceConflicts {
    private struct Claim {
        var component: String
        var start: UInt64
        var size: UInt64
        var location: SourceLocation
        var end: UInt64 { start &+ size }
        func overlaps(_ other: Claim) -> Bool { start < other.end && other.start < end }
    }

    static func check(_ components: [ComponentDeclaration]) -> [Diagnostic] {
        var ports: [Claim] = [], mmio: [Claim] = [], interrupts: [Claim] = []
        for c in components {
            for p in c.ioPorts where PortRange(first: p.value.start, count: p.value.size).isValid {
                ports.append(Claim(component: c.name.value, start: p.value.start, size: p.value.size, location: p.location))
            }
            for m in c.mmio where MMIORange(base: m.value.start, size: m.value.size).isValid {
                mmio.append(Claim(component: c.name.value, start: m.value.start, size: m.value.size, location: m.location))
            }
            for irq in c.interrupts {
                interrupts.append(Claim(component: c.name.value, start: irq.value, size: 1, location: irq.location))
            }
        }
        var diagnostics: [Diagnostic] = []
        for (j, claim) in ports.enumerated() {
            if let earlier = ports[..<j].first(where: { $0.overlaps(claim) }) {
                diagnostics.append(Diagnostic(claim.location,
                    "I/O ports \(SizeText.range(claim.start, claim.size)) of component '\(claim.component)' overlap ports " +
                    "\(SizeText.range(earlier.start, earlier.size)) of \(owner(earlier, claim)); each port can belong to one component only"))
            }
        }
        for (j, claim) in mmio.enumerated() {
            if let earlier = mmio[..<j].first(where: { $0.overlaps(claim) }) {
                diagnostics.append(Diagnostic(claim.location,
                    "MMIO range \(SizeText.range(claim.start, claim.size)) of component '\(claim.component)' overlaps " +
                    "\(SizeText.range(earlier.start, earlier.size)) of \(owner(earlier, claim)); each MMIO page can belong to one component only"))
            }
        }
        for (j, claim) in interrupts.enumerated() {
            if let earlier = interrupts[..<j].first(where: { $0.start == claim.start }) {
                diagnostics.append(Diagnostic(claim.location,
                    "interrupt \(claim.start) is claimed twice: by component '\(claim.component)' here and by " +
                    "\(owner(earlier, claim)); give each interrupt to one component only"))
            }
        }
        return diagnostics
    }

    private static func owner(_ earlier: Claim, _ later: Claim) -> String {
        let place = "\(earlier.location.line):\(earlier.location.column)"
        return earlier.component == later.component ? "the same component (at \(place))"
            : "component '\(earlier.component)' (at \(place))"
    }
}
