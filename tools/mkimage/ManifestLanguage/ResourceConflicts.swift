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
        var diagnostics: [Diagnostic] = pciDevices(components)
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

    /// A device named twice the same way (two components, or twice in one). Selectors are compared parsed, so
    /// "1AF4:1001" and "1af4:1001" are the same; malformed ones are the validator's to report.
    private static func pciDevices(_ components: [ComponentDeclaration]) -> [Diagnostic] {
        var claims: [(selector: PCIDeviceSelector, component: String, written: Located<String>)] = []
        for c in components {
            for d in c.pciDevices {
                if case .success(let selector) = PCIDeviceSelector.parse(d.value) {
                    claims.append((selector, c.name.value, d))
                }
            }
        }
        return DuplicateCheck.duplicates(in: claims.map { $0.selector }).map { d in
            let claim = claims[d.index], earlier = claims[d.first]
            let place = "\(earlier.written.location.line):\(earlier.written.location.column)"
            let owner = earlier.component == claim.component ? "the same component (at \(place))"
                : "component \(QuotedText.quote(earlier.component)) (at \(place))"
            return Diagnostic(claim.written.location,
                "PCI device \(QuotedText.quote(claim.written.value)) is assigned twice: to component \(QuotedText.quote(claim.component)) " +
                "here and to \(owner); give each device to one component only")
        }
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
