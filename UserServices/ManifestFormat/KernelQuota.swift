/// The kernel memory quota the root task grants a component's protection domain (its kernel objects and page
/// tables), in pages. One rule for the root task (which grants it) and the manifest checker (which counts it
/// against the machine's RAM). Today every component gets one PD's worth; per-VM nested paging and per-vCPU
/// objects are not counted yet: the virtualization work defines them and extends this function.
public enum KernelQuota {
    /// Pages for one PD's capability space, ECs, SCs, portals and page tables.
    public static let protectionDomainPages: UInt64 = 64

    /// The quota of a component that runs VMs with these vCPU counts (none for an ordinary component).
    public static func pages(runningVMsWithVCPUs vcpus: [UInt64]) -> UInt64 { protectionDomainPages }

    /// The quota of the component at `index` of `system`.
    public static func pages(forComponent index: Int, in system: SystemDescription) -> UInt64 {
        pages(runningVMsWithVCPUs: system.vms(runBy: index).map { $0.vcpus })
    }
}
