import KernelABI
import PCIBus
import UserRuntime

/// Where the PCI driver keeps its handler EC, its per-client portals and its idle semaphore.
enum PCIDriverLayout {
    static let handlerEC: UInt64 = ComponentSelectors.firstFree
    static let idleSM: UInt64 = ComponentSelectors.firstFree + 1
    /// Client k's portal (portal id k).
    static let firstClientPortal: UInt64 = ComponentSelectors.firstFree + 16
    static let handlerUTCB: UInt64 = ComponentLayout.firstFreeUTCB
    static let handlerStackPages: UInt64 = 2
    /// Entry-table slot of `pciServicePortal`.
    static let handlerSlot = 1
}

/// The PCI bus driver (entry slot 0). The root task gave it the configuration mechanism (the MCFG's ECAM window,
/// mapped uncached and named in the table; without one ports 0xcf8..0xcff, which no manifest may grant) and a
/// table of its clients and their devices (`PCIClientTable`). It makes one portal per
/// client on one handler EC, portal id = client index, and registers each for that client only; then it idles.
/// A request names a device by its index in the caller's list, so devices of other components do not exist for it.
public func pciDriverMain<P: UserPlatform>(_ platform: P, startInfo: UInt64) {
    let sys = SystemCalls(platform)
    let utcb = UTCB(platform: platform, base: ComponentLayout.utcb)
    guard let info = try? ComponentStartInfo.read(platform, at: ComponentStartInfo.address(entryArgument: startInfo)) else {
        return idle(sys)
    }
    let log = info.portal(forService: "log").map { LogClient(utcb: utcb, portal: $0) }
    func fail(_ text: String) {
        _ = log?.write("pci: error: \(text)\n")
        idle(sys)
    }
    guard let service = info.providedService(named: "pci") else { return fail("the manifest gives no service named pci") }
    guard let clients = PCIClientTable.read({ platform.load64(PCIClientTable.address + UInt64($0) * 8) }) else {
        return fail("the root task's client table is missing or malformed")
    }
    let mechanism: String
    if let window = configurationWindow(platform) {
        let size = (UInt64(window.endBus) - UInt64(window.startBus) + 1) << 20
        guard info.mmio.contains(where: { $0.virtualAddress <= window.base && window.base + size <= $0.virtualAddress + $0.size })
        else { return fail("the configuration window at 0x\(PCIText.hex(window.base)) was not granted") }
        mechanism = "ECAM (buses \(window.startBus)-\(window.endBus))"
    } else {
        guard info.ports.contains(where: { $0.first == UInt64(PortConfigAccess<P>.addressPort) && $0.count >= PortConfigAccess<P>.portCount })
        else { return fail("neither a configuration window nor ports 0xcf8..0xcff were granted") }
        mechanism = "configuration ports 0xcf8 (no ECAM)"
    }
    guard info.heapSize >= PCIDriverLayout.handlerStackPages * AddressLayout.pageSize else {
        return fail("its heap is too small for the handler stack")
    }
    let handler = EntryTable.address(entry: info.entry, slot: PCIDriverLayout.handlerSlot)
    guard sys.createEC(PCIDriverLayout.handlerEC, pd: ComponentSelectors.ownPD, utcb: PCIDriverLayout.handlerUTCB,
                       stackPointer: info.heapBase + info.heapSize, entry: handler, global: false,
                       eventBase: ComponentSelectors.eventBase) == .success
    else { return fail("creating the handler EC failed") }
    for (k, client) in clients.enumerated() {
        let portal = PCIDriverLayout.firstClientPortal + UInt64(k)
        let created = sys.createPT(portal, ec: PCIDriverLayout.handlerEC, entry: handler, portalID: UInt64(k))
        guard created == .success else { return fail("creating the portal of client \(k) failed: \(created)") }
        let status = PCIClientPortal.register(utcb, serviceID: service.id, client: k, landing: client.landing, portal: portal)
        guard status == .success else { return fail("registering the portal of client \(k) failed: \(status)") }
        for device in client.devices {
            _ = log?.write("pci: client \(k): \(device.description), \(device.bars.count) BARs\n")
        }
    }
    _ = log?.write("pci: serving \(clients.count) clients through \(mechanism)\n")
    idle(sys)
}

/// The `pci` portal handler (entry slot 1): the portal id is the client; its devices come from the table.
public func pciServicePortal<P: UserPlatform>(_ platform: P, startInfo: UInt64) {
    let sys = SystemCalls(platform)
    let utcb = UTCB(platform: platform, base: PCIDriverLayout.handlerUTCB)
    let mmio = (try? ComponentStartInfo.read(platform, at: ComponentStartInfo.address(entryArgument: startInfo)))?.mmio ?? []
    while true {
        let reply = serve(platform, utcb, mmio: mmio)
        utcb.setMessage(untyped: reply)
        _ = sys.reply()
    }
}

private func serve<P: UserPlatform>(_ platform: P, _ utcb: UTCB<P>, mmio: [ComponentStartInfo.MMIOGrant]) -> [UInt64] {
    let clients = PCIClientTable.read { platform.load64(PCIClientTable.address + UInt64($0) * 8) } ?? []
    let client = utcb.portalID
    guard client < UInt64(clients.count) else { return [Status.badSelector.rawValue] }
    let request = (0..<min(utcb.untypedCount, 8)).map { utcb.data($0) }
    let devices = clients[Int(client)].devices, messages = clients[Int(client)].messages
    // MSI-X tables: the pages the root task mapped for this driver (never for the devices' own drivers).
    let store: (PCIFunction, Int, UInt64, UInt32) -> Bool = { f, bar, offset, value in
        guard let b = f.bars.first(where: { $0.index == bar && !$0.isIO }), offset <= b.size, b.size - offset >= 4 else { return false }
        let physical = b.base + offset
        guard let g = mmio.first(where: { $0.physicalBase <= physical && physical - $0.physicalBase <= $0.size - 4 && $0.size >= 4 })
        else { return false }
        platform.store32(g.virtualAddress + (physical - g.physicalBase), value)
        return true
    }
    if let w = configurationWindow(platform) {
        let ecam = ECAMConfigAccess(platform: platform, base: w.base, startBus: w.startBus, endBus: w.endBus)
        return PCIService(config: ecam, msixStore: store).handle(request, devices: devices, messages: messages)
    }
    return PCIService(config: PortConfigAccess(platform: platform), msixStore: store)
        .handle(request, devices: devices, messages: messages)
}

private func configurationWindow<P: UserPlatform>(_ platform: P) -> PCIClientTable.Window? {
    PCIClientTable.window { platform.load64(PCIClientTable.address + UInt64($0) * 8) }
}

func idle<P: UserPlatform>(_ sys: SystemCalls<P>) {
    _ = sys.createSM(PCIDriverLayout.idleSM, count: 0)
    while sys.down(sm: PCIDriverLayout.idleSM) == .success {}
}
