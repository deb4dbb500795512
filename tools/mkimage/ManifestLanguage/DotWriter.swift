import ManifestFormat

/// The composition as a Graphviz DOT graph: components (boxes, VMMs bold), VMs (ellipses), device resources
/// (I/O ports, MMIO, interrupts), service routes (user -> provider, labelled with the service), start-up
/// dependencies (dashed) and which VMM runs which VM.
public enum DotWriter {
    public static func dot(_ system: SystemDescription) -> String {
        var lines = ["digraph system {", "  rankdir=LR;", "  node [fontname=\"Helvetica\"];",
                     "  edge [fontname=\"Helvetica\"];"]
        for c in system.components {
            var label = ["\(c.name)\(c.isVMM ? " (VMM)" : "")", "binary \(c.binary)",
                         "\(size(c.memory)), priority \(c.priority), \(c.budgetMilliseconds) ms"]
            if c.restartOnFault { label.append("restart on fault") }
            lines.append("  \(node(c.name, "component")) [shape=box\(c.isVMM ? ", style=bold" : ""), label=\(quoted(label))];")
        }
        for vm in system.vms {
            var label = ["\(vm.name)"]
            switch vm.image {
            case .kernel(let kernel, let initrd, let commandLine):
                label.append("kernel \(kernel)")
                if let initrd { label.append("initrd \(initrd)") }
                if !commandLine.isEmpty { label.append("cmdline \(commandLine)") }
            case .testImage(let image):
                label.append("test image \(image)")
            }
            if let disk = vm.disk { label.append("disk \(disk)") }
            if let route = vm.diskService { label.append("disk from service \(route)") }
            label.append("\(size(vm.memory)), \(vm.vcpus) vCPU\(vm.vcpus == 1 ? "" : "s")\(vm.nested ? ", nested" : "")")
            lines.append("  \(node(vm.name, "vm")) [shape=ellipse, label=\(quoted(label))];")
        }
        for c in system.components {
            let from = node(c.name, "component")
            for p in c.ioPorts {
                let device = "ports \(SizeText.range(p.first, p.count))"
                lines.append("  \(quoted([device])) [shape=cds];")
                lines.append("  \(from) -> \(quoted([device])) [arrowhead=none, style=dotted];")
            }
            for m in c.mmio {
                let device = "MMIO \(SizeText.range(m.base, m.size))"
                lines.append("  \(quoted([device])) [shape=cds];")
                lines.append("  \(from) -> \(quoted([device])) [arrowhead=none, style=dotted];")
            }
            for irq in c.interrupts {
                let device = "IRQ \(irq)"
                lines.append("  \(quoted([device])) [shape=cds];")
                lines.append("  \(from) -> \(quoted([device])) [arrowhead=none, style=dotted];")
            }
            for route in c.uses { lines.append(edge(from: from, route, in: system)) }
            for d in c.dependsOn {
                lines.append("  \(from) -> \(node(system.components[d].name, "component")) [style=dashed, label=\"starts after\"];")
            }
        }
        for vm in system.vms {
            let from = node(vm.name, "vm")
            lines.append("  \(node(system.components[vm.vmm].name, "component")) -> \(from) [style=bold, label=\"runs\"];")
            for route in vm.services { lines.append(edge(from: from, route, in: system)) }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    private static func edge(from: String, _ route: ServiceRoute, in system: SystemDescription) -> String {
        let provider = system.components[route.provider]
        let service = provider.provides[route.service]
        let label = route.name == service.name ? "\(route.name) (\(route.kind))" : "\(route.name) -> \(service.name) (\(route.kind))"
        return "  \(from) -> \(node(provider.name, "component")) [label=\(quoted([label]))];"
    }

    /// Node ids are prefixed so a component and a VM may share a name.
    private static func node(_ name: ManifestString, _ kind: String) -> String { quoted(["\(kind):\(name)"]) }

    private static func size(_ bytes: UInt64) -> String { SizeText.bytes(bytes) }

    /// A DOT string of `lines` joined by DOT's line breaks, with quotes and backslashes escaped.
    private static func quoted(_ lines: [String]) -> String {
        let escaped = lines.map { line in
            line.map { $0 == "\\" || $0 == "\"" ? "\\\($0)" : String($0) }.joined()
        }
        return "\"" + escaped.joined(separator: "\\n") + "\""
    }
}
