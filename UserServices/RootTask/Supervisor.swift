import BootFormat
import KernelABI
import ManifestFormat
import PCIBus
import UserRuntime

/// Builds the system the manifest describes and keeps it running: creates each component, serves service
/// registrations, and handles component faults (report, revoke, restart when the manifest asks for it). All of it
/// runs on the root's main EC; the handler EC only forwards calls through the `Mailbox`.
///
/// This file starts components and serves calls; the jobs are in their own files: building a component
/// (SupervisorBuild.swift), what it is granted (SupervisorGrants.swift), VMs a VMM runs (SupervisorVMs.swift),
/// service registration (SupervisorRegistration.swift), faults and restarts (SupervisorFaults.swift).
final class Supervisor<P: UserPlatform> {
    let platform: P
    let sys: SystemCalls<P>
    let console: Console<P>
    let system: SystemDescription
    let bundle: BootBundle
    let bundleBase: UInt64
    let ticksPerMillisecond: UInt64
    /// Where the handler EC's portals enter the root task.
    let handlerEntry: UInt64
    var pages: PageAllocator
    var selectors = SelectorAllocator(first: RootLayout.firstDynamicSelector)
    /// Landing selectors for registered portals, inside the handler's receive window (set up by `prepare`).
    var landings = SelectorAllocator(first: 0, limit: 0)
    var records: [ComponentRecord]
    /// Per component: what its PCI devices grant it, or why it cannot have them (`resolvePCIDevices`, at boot).
    var pciGrants: [Result<PCIGrant, PCIAssignmentError>] = []
    /// Whether the kernel confines device DMA, learnt from the first `assign_dev` (SupervisorDeviceBinding.swift).
    var dmaConfinement: DMAConfinement?
    /// The MSI message the kernel chose for each message interrupt of a component with PCI devices (learnt at boot).
    var messages: [PCIMessageGrant] = []
    /// The PCI configuration windows the kernel read from the MCFG (RootBootInfo), and the one the PCI driver
    /// gets (claimed at boot; nil: it gets ports 0xcf8..0xcff instead).
    var configurationWindows: [ConfigurationWindow] = []
    /// The kernel remaps DMA (RootBootInfo): every assigned device is bound to its component's PD, which then gives
    /// its devices its own virtual addresses (`ComponentStartInfo.dmaTranslated`).
    var dmaRemapping = false
    var pciWindow: ConfigurationWindow?
    /// Pages of assigned devices' MSI-X tables and pending bits: mapped for the PCI driver, kept from the devices'
    /// drivers (`resolvePCIDevices`).
    var msixTables: [MMIORange] = []

    init(platform: P, system: SystemDescription, bundle: BootBundle, bundleBase: UInt64, ticksPerMillisecond: UInt64,
         handlerEntry: UInt64, pages: PageAllocator) {
        self.platform = platform
        sys = SystemCalls(platform)
        console = Console(platform: platform)
        self.system = system
        self.bundle = bundle
        self.bundleBase = bundleBase
        self.ticksPerMillisecond = ticksPerMillisecond
        self.handlerEntry = handlerEntry
        self.pages = pages
        records = system.components.map { ComponentRecord(servicePortals: [UInt64?](repeating: nil, count: $0.provides.count)) }
    }

    var mailbox: Mailbox<P> { Mailbox(platform: platform, base: RootLayout.mailbox) }

    func name(_ index: Int) -> String { system.components[index].name.description }

    // MARK: start-up

    /// Starts every component in dependency order; a provider's services are registered before its users start.
    func startAll() throws(RootError) {
        let order: [Int]
        do { order = try StartOrder.order(system) } catch { throw .startOrder(error) }
        resolvePCIDevices()
        for index in order {
            let blocking = StartOrder.prerequisites(of: index, in: system).first { records[$0].state != .running }
            if let blocking {
                records[index].state = .failed
                console.line("root: not starting \(name(index)): \(name(blocking)), which it needs, is not running")
                continue
            }
            do throws(RootError) {
                try start(index)
            } catch {
                records[index].state = .failed
                console.line("root: cannot start \(name(index)): \(error)")
                continue
            }
            while records[index].state == .running && !records[index].allServicesRegistered {
                serveOneCall()
            }
        }
    }

    /// Serves calls forever (faults and registrations after start-up).
    func serve() -> Never {
        while true { serveOneCall() }
    }

    func serveOneCall() {
        _ = sys.down(sm: RootLayout.requestSM)
        mailbox.replyStatus = handle(portalID: mailbox.portalID)
        _ = sys.up(sm: RootLayout.doneSM)
    }

    func handle(portalID: UInt64) -> Status {
        let index = RootPortalID.component(portalID)
        guard index < records.count else { return .badSelector }
        let event = RootPortalID.event(portalID)
        if event == RootPortalID.registration {
            let isVMReport = mailbox.untypedCount >= 1 && mailbox.data(0) == VMEndReport.request
            return isVMReport ? reportVMEnd(index) : register(index)
        }
        handleFault(index, event: event)
        return .aborted
    }

    // MARK: shared by the jobs in the other Supervisor*.swift files

    func newSelector(order: UInt64 = 0) throws(RootError) -> UInt64 {
        guard let s = selectors.allocate(order: order) else { throw .outOfSelectors }
        return s
    }

    func check(_ status: Status, _ what: @autoclosure () -> String) throws(RootError) {
        guard status == .success else { throw .hypercall(what: what(), status) }
    }
}
