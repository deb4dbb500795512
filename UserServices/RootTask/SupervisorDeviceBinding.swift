import KernelABI
import PCIBus
import UserRuntime

/// DMA confinement of assigned PCI devices: each one is bound (`assign_dev`, by its requester ID bus:dev.fn) to
/// the PD of the component it is assigned to when that component starts, so the device reaches exactly that PD's
/// memory; the binding goes at teardown before the PD (and then its pages) go. Without an IOMMU the kernel
/// refuses every binding with `badState`: the root then says once that DMA is not confined and goes on.
extension Supervisor {
    /// What the root learnt about the IOMMU from its first binding (nil: no device bound yet).
    enum DMAConfinement: Equatable { case confined, notConfined }

    /// Binds every PCI device of the component to its PD (after its memory is delegated, before it runs).
    func bindDevices(_ index: Int) throws(RootError) {
        guard index < pciGrants.count, case .success(let grant) = pciGrants[index] else { return }
        for f in grant.functions {
            if dmaConfinement == .notConfined { return }
            let status = sys.assignDevice(pd: records[index].pd, requester: UInt64(f.address.routingID))
            switch status {
            case .success:
                dmaConfinement = .confined
                records[index].boundDevices.append(f.address)
                console.line("root: \(name(index)): PCI device \(f.address) bound to the IOMMU (DMA reaches its memory only)")
            case .badState where dmaConfinement == nil && records[index].boundDevices.isEmpty:
                // The kernel drives no IOMMU (a device bound twice is impossible: the root binds each once).
                dmaConfinement = .notConfined
                console.line("root: no IOMMU: DMA of PCI devices is not confined (drivers are trusted code)")
                return
            default:
                throw .hypercall(what: "binding PCI device \(f.address) of \(name(index)) to the IOMMU", status)
            }
        }
    }

    /// Unbinds the component's devices (their DMA blocked from now on). Runs before its PD is destroyed and its
    /// pages are freed; the kernel would unbind them with the PD as well, this makes the order explicit and says so.
    func unbindDevices(_ index: Int) {
        for address in records[index].boundDevices {
            let status = sys.releaseDevice(pd: records[index].pd, requester: UInt64(address.routingID))
            console.line("root: \(name(index)): PCI device \(address) " +
                         (status == .success ? "unbound from the IOMMU, its DMA blocked" : "could not be unbound: \(status)"))
        }
        records[index].boundDevices = []
    }
}
