import PCIBus
import UserRuntime

/// What the root task keeps about one component between its start and its teardown.
struct ComponentRecord {
    enum State: Equatable { case notStarted, running, stopped, failed }

    var state: State = .notStarted
    var restarts = 0
    /// Root selectors of the component's PD, EC and SC while it runs.
    var pd: UInt64 = 0
    var ec: UInt64 = 0
    var sc: UInt64 = 0
    /// Physical pages given to it (image, stack, heap, start info), freed at teardown.
    var pages: [UInt64] = []
    /// PCI devices bound to its PD at the IOMMU (`bindDevices`), unbound at teardown.
    var boundDevices: [PCIAddress] = []
    /// A VMM's guest RAM blocks (physical base, order) and what its start info says of its VMs.
    var guestBlocks: [(UInt64, UInt64)] = []
    var vms: [ComponentStartInfo.VirtualMachine] = []
    /// A VMM's VMs (indices into its start-info list) that it reported ended (`VMEndReport`) in this incarnation.
    var endedVMs: [Int] = []
    /// Root selectors of the 32 event portals (an aligned block) and of the registration portal, created once.
    var eventPortals: UInt64?
    var registrationPortal: UInt64?
    /// Per provided service: where the root holds the registered portal (nil until registered).
    var servicePortals: [UInt64?] = []
    /// Per provided service: the landing selector this incarnation must register it at.
    var landings: [UInt64] = []

    /// Per provided service of kind "pci": one portal per client (registered by the PCI driver, delegated to that
    /// client only) and the landing selectors this incarnation must register them at. Empty for other services.
    var clientPortals: [[UInt64?]] = []
    var clientLandings: [[UInt64]] = []

    /// A per-client service is registered when every client's portal is.
    var allServicesRegistered: Bool {
        servicePortals.indices.allSatisfy { s in
            isPerClient(s) ? !clientPortals[s].contains { $0 == nil } : servicePortals[s] != nil
        }
    }

    /// Services of kind "pci" (even with no clients), set when the component starts.
    func isPerClient(_ s: Int) -> Bool { s < clientPortals.count && s < clientLandings.count && perClient[s] }
    var perClient: [Bool] = []
}
