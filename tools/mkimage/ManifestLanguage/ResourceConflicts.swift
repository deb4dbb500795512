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
        for o in overlaps(ports) {
            let claim = ports[o.index], earlier = ports[o.earlier]
            diagnostics.append(Diagnostic(claim.location,
                "I/O ports \(SizeText.range(claim.start, claim.size)) of component \(QuotedText.quote(claim.component)) overlap ports " +
                "\(SizeText.range(earlier.start, earlier.size)) of \(owner(earlier, claim)); each port can belong to one component only"))
        }
        for o in overlaps(mmio) {
            let claim = mmio[o.index], earlier = mmio[o.earlier]
            diagnostics.append(Diagnostic(claim.location,
                "MMIO range \(SizeText.range(claim.start, claim.size)) of component \(QuotedText.quote(claim.component)) overlaps " +
                "\(SizeText.range(earlier.start, earlier.size)) of \(owner(earlier, claim)); each MMIO page can belong to one component only"))
        }
        for o in overlaps(interrupts) {
            let claim = interrupts[o.index], earlier = interrupts[o.earlier]
            diagnostics.append(Diagnostic(claim.location,
                "interrupt \(claim.start) is claimed twice: by component \(QuotedText.quote(claim.component)) here and by " +
                "\(owner(earlier, claim)); give each interrupt to one component only"))
        }
        return diagnostics
    }

    private static func overlaps(_ claims: [Claim]) -> [OverlapCheck.Overlap] {
        OverlapCheck.overlaps(starts: claims.map { $0.start }, ends: claims.map { $0.end })
    }

    private static func owner(_ earlier: Claim, _ later: Claim) -> String {
        let place = "\(earlier.location.line):\(earlier.location.column)"
        return earlier.component == later.component ? "the same component (at \(place))"
            : "component \(QuotedText.quote(earlier.component)) (at \(place))"
    }
}
