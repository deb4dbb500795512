/// The kernel memory quota the root task grants a component's protection domain (its kernel objects and page
/// tables), in pages. One rule for the root task (which grants it) and the manifest checker (which counts it
/// against the machine's RAM).
///
/// A VMM's quota adds, per VM: the VM PD itself (1 page), the quota the VMM hands it for its nested page table
/// (`nestedTablePages`), the VMM's own page tables for its view of the guest RAM (the same amount) and of the guest
/// image (`imageTablePages`); per vCPU: the kernel's per-vCPU hardware state (`vcpuStatePages`, the most any platform
/// asks: VMCB + I/O and MSR permission maps + FPU image), the exit handler EC (its UTCB), the vCPU's SC, and one
/// portal per exit (`exitPortals`).
public enum KernelQuota {
    /// Pages for one PD's capability space, ECs, SCs, portals and page tables.
    public static let protectionDomainPages: UInt64 = 64
    public static let vcpuStatePages: UInt64 = 8
    public static let exitPortals: UInt64 = 64

    /// Nested page-table pages for `memory` bytes of guest RAM: the PML4 and PDPT, a directory per GiB, and for
    /// each 2 MiB both the reservation of a large leaf and a page table (what it costs if mapped page by page).
    /// Like everything here it saturates at `UInt64.max`: a hostile manifest or blob gets an error, not a trap.
    public static func nestedTablePages(memory: UInt64) -> UInt64 {
        let twoMiB: UInt64 = 2 << 20, oneGiB: UInt64 = 1 << 30
        let gibibytes = memory / oneGiB + (memory % oneGiB == 0 ? 0 : 1)
        let chunks = memory / twoMiB + (memory % twoMiB == 0 ? 0 : 1)
        return add(2, add(gibibytes, multiply(2, chunks)))
    }

    /// Tables for the VMM's read-only view of a guest image (mapped page by page in its own 4 GiB window).
    public static let imageTablePages: UInt64 = 8

    /// What one VM costs its VMM beyond the VMM's own PD.
    public static func vmPages(memory: UInt64, vcpus: UInt64) -> UInt64 {
        add(1 + imageTablePages, add(multiply(2, nestedTablePages(memory: memory)),
                                     multiply(vcpus, vcpuStatePages + 1 + 1 + exitPortals)))
    }

    /// The quota of a component that runs VMs of these sizes (none for an ordinary component).
    public static func pages(runningVMs vms: [(memory: UInt64, vcpus: UInt64)]) -> UInt64 {
        vms.reduce(protectionDomainPages) { add($0, vmPages(memory: $1.memory, vcpus: $1.vcpus)) }
    }

    static func add(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : sum
    }

    static func multiply(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? .max : product
    }

    /// What the provider of a `pci` service maps on top: a configuration window of up to 256 buses (256 MiB of
    /// ECAM), its directory and the split reservation of each of its 128 2-MiB leaves, with room for the tables.
    public static let configurationWindowPages: UInt64 = 136

    /// The quota of a component that runs these VMs and perhaps provides the `pci` service.
    public static func pages(runningVMs vms: [(memory: UInt64, vcpus: UInt64)], providesPCI: Bool) -> UInt64 {
        let base = pages(runningVMs: vms)
        return providesPCI ? add(base, configurationWindowPages) : base
    }

    /// The quota of the component at `index` of `system`.
    public static func pages(forComponent index: Int, in system: SystemDescription) -> UInt64 {
        pages(runningVMs: system.vms(runBy: index).map { (memory: $0.memory, vcpus: $0.vcpus) },
              providesPCI: system.components[index].provides.contains { $0.kind == ManifestString("pci") })
    }
}
