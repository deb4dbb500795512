import BlockService
import KernelABI
import PCIBus
import UserRuntime

/// Where the virtio-blk driver keeps its handler, portal, queue and headers.
enum VirtioBlockLayout {
    static let handlerEC: UInt64 = ComponentSelectors.firstFree
    static let portal: UInt64 = ComponentSelectors.firstFree + 1
    static let idleSM: UInt64 = ComponentSelectors.firstFree + 2
    /// Waited on with a deadline when the device has no interrupt line (polling).
    static let pollSM: UInt64 = ComponentSelectors.firstFree + 3
    static let handlerUTCB: UInt64 = ComponentLayout.firstFreeUTCB
    static let handlerStackPages: UInt64 = 2
    /// The largest legacy queue the driver takes (QEMU offers 256: three pages).
    static let maxQueueSize: UInt64 = 256
    static let handlerSlot = 1
}

/// The virtio-blk-pci driver (entry slot 0): finds its device through the `pci` service (index 0 of its own list),
/// turns on decoding and bus mastering there, sets the device up through its modern interface (memory BARs; with
/// the IOMMU its DMA uses the driver's own addresses) or else its legacy I/O BAR, with one queue in heap pages,
/// and registers the `block` service (slot 1 serves it).
/// Every failure is one `virtio-blk: error:` line through `log`; the driver then idles without registering.
public func virtioBlockDriverMain<P: UserPlatform>(_ platform: P, startInfo: UInt64) {
    let sys = SystemCalls(platform)
    let utcb = UTCB(platform: platform, base: ComponentLayout.utcb)
    guard let info = try? ComponentStartInfo.read(platform, at: ComponentStartInfo.address(entryArgument: startInfo)) else {
        return idle(sys)
    }
    let log = info.portal(forService: "log").map { LogClient(utcb: utcb, portal: $0) }
    func fail(_ text: String) {
        _ = log?.write("virtio-blk: error: \(text)\n")
        idle(sys)
    }
    guard let pciPortal = info.portal(forService: "pci") else { return fail("the manifest routes no pci service") }
    guard let service = info.providedService(named: "block") else { return fail("the manifest gives no service named block") }
    let pci = PCIClient(utcb: utcb, portal: pciPortal)
    let device: PCIFunction
    switch pci.describe(0) {
    case .success(let d): device = d
    case .failure(let e): return fail("no device from the pci service: \(e)")
    }
    guard device.vendor == 0x1af4, device.device == 0x1001 || device.device == 0x1042 else {
        return fail("device \(device.description) is not a virtio block device (1af4:1001 or 1af4:1042)")
    }
    // Decoding of what the device has (bus mastering only after the reset, in `negotiate`: after a restart the
    // device may still hold requests of the dead driver, whose queue pages the root may have handed out again; the
    // root turned bus mastering off, and the reset makes the device forget them before it may DMA again).
    let decoding = (device.bars.contains { $0.isIO } ? PCICommandFlags.io : 0)
        | (device.bars.contains { !$0.isIO } ? PCICommandFlags.memory : 0)
    if case .failure(let e) = pci.setCommand(0, flags: decoding) { return fail("enabling decoding: \(e)") }
    // The modern interface when the device has it in BARs the driver was granted, else the legacy I/O BAR.
    let transport: VirtioTransport
    switch modernTransport(platform, pci: pci, device: device, mmio: info.mmio) {
    case .success(let modern):
        transport = modern
    case .failure(let whyNot):
        guard let bar = device.bars.first(where: { $0.index == 0 && $0.isIO }), bar.size >= VirtioLegacy.registerSpan,
              info.ports.contains(where: { $0.first == bar.base && $0.count >= bar.size }) else {
            return fail("device \(device.description) has neither the modern interface (\(whyNot)) nor a granted legacy I/O BAR 0")
        }
        transport = .legacy(io: UInt16(bar.base))
    }
    guard let agreed = VirtioBlockDevice<P>.negotiate(platform: platform, transport: transport) else {
        return fail("the device refused the driver's features")
    }
    if case .failure(let e) = pci.setCommand(0, flags: decoding | PCICommandFlags.busMaster) {
        return fail("enabling bus mastering: \(e)")
    }
    let size = agreed.queueSize
    guard size > 0, size <= VirtioBlockLayout.maxQueueSize, size & (size - 1) == 0 else {
        return fail("queue 0 has size \(size); expected a power of two up to \(VirtioBlockLayout.maxQueueSize)")
    }
    // The driver's own addresses reach the device only through the IOMMU, and only if the device uses it.
    let translated = info.dmaTranslated && agreed.accessPlatform
    let layout = VirtqueueLayout(size: size)
    // Heap: the queue pages, one page of headers, and the handler's stack at the top.
    let needed = layout.pages + 1 + VirtioBlockLayout.handlerStackPages
    guard info.heapSize >= needed * AddressLayout.pageSize else {
        return fail("its heap has \(info.heapSize / AddressLayout.pageSize) pages, \(needed) needed")
    }
    let usable = info.heapSize / AddressLayout.pageSize - VirtioBlockLayout.handlerStackPages
    let queue: (virtual: [UInt64], physical: UInt64)
    if translated {
        // Contiguous in the driver's address space is contiguous for the device.
        guard let first = PhysicalPages.physical(platform, virtual: info.heapBase) else { return fail("heap not held") }
        queue = ((0..<layout.pages).map { info.heapBase + $0 * AddressLayout.pageSize }, first)
    } else {
        // The queue goes in physically contiguous heap pages below the stack (wherever they are).
        guard let run = PhysicalPages.contiguousRun(platform, virtual: info.heapBase, pages: usable, count: layout.pages) else {
            return fail("no \(layout.pages) physically contiguous pages in its heap for the queue")
        }
        queue = run
    }
    guard let headers = (0..<usable).map({ info.heapBase + $0 * AddressLayout.pageSize }).first(where: { !queue.virtual.contains($0) })
    else { return fail("no heap page left for the request headers") }
    guard let headerPhysical = PhysicalPages.physical(platform, virtual: headers) else { return fail("header page not held") }
    _ = sys.createSM(VirtioBlockLayout.pollSM, count: 0)
    // Interrupts: the message interrupt the manifest grants through MSI-X on the modern interface (the PCI driver
    // writes the kernel's message into the table, which this driver never holds), else the INTx line.
    let line = info.interrupts.first { !RootSelectors.isMessage($0.irq) }
    var message = info.interrupts.first { RootSelectors.isMessage($0.irq) }
    var interruptNote = ""
    if let m = message {
        if !transport.isModern {
            interruptNote = " (message interrupt \(m.irq) unused: MSI-X needs the modern interface)"
            message = nil
        } else if let problem = enableMSIX(sys, pci: pci, device: device, message: m) {
            interruptNote = " (MSI-X unavailable: \(problem))"
            message = nil
        }
    }
    let blk = VirtioBlockDevice(platform: platform, transport: transport, translated: translated,
                                supportsFlush: agreed.flush, queuePages: queue.virtual,
                                queueDMA: translated ? queue.virtual[0] : queue.physical, headerPage: headers,
                                headerDMA: translated ? headers : headerPhysical, layout: layout,
                                interrupt: (message ?? line)?.semaphore, idleSM: VirtioBlockLayout.pollSM,
                                ticksPerMillisecond: info.ticksPerMillisecond)
    if !blk.start(vector: message == nil ? VirtioTransport.noVector : 0) {
        // The device took no vector for the queue: back to INTx, with MSI-X off again.
        _ = pci.disableMSIX(0)
        interruptNote = " (the device refused MSI-X vector 0)"
        message = nil
        blk.interrupt = line?.semaphore
        guard blk.start() else { return fail("the device refused its queue") }
    }
    blk.foundRunning = agreed.previousStatus != 0
    platform.componentState = blk
    let at: String
    switch transport {
    case .legacy(let io): at = "legacy interface at ports 0x\(PCIText.hex(UInt64(io)))"
    case .modern(let common, _, _, _): at = "modern interface at 0x\(PCIText.hex(common))"
    }
    let interrupt = message.map { "MSI-X (message interrupt \($0.irq))" }
        ?? line.map { "irq \($0.irq)" } ?? "polling (no interrupt line)"
    let confinement = translated ? "DMA confined by the IOMMU (device addresses are the driver's own)"
        : !transport.isModern ? "DMA is not confined (legacy virtio: an IOMMU does not translate it)"
        : !agreed.accessPlatform ? "DMA is not confined (the device does not offer ACCESS_PLATFORM)"
        : "DMA is not confined (no IOMMU)"
    _ = log?.write("virtio-blk: \(device.description), \(at), queue of \(size), " +
                   "\(blk.sectors) sectors, " + interrupt + interruptNote +
                   (blk.supportsFlush ? ", flush" : ", no flush") + "; \(confinement)" +
                   (blk.foundRunning ? "; reset the device a previous driver left running (status 0x\(PCIText.hex(UInt64(agreed.previousStatus))))" : "")
                   + "\n")

    let handler = EntryTable.address(entry: info.entry, slot: VirtioBlockLayout.handlerSlot)
    guard sys.createEC(VirtioBlockLayout.handlerEC, pd: ComponentSelectors.ownPD, utcb: VirtioBlockLayout.handlerUTCB,
                       stackPointer: info.heapBase + info.heapSize, entry: handler, global: false,
                       eventBase: ComponentSelectors.eventBase) == .success,
          sys.createPT(VirtioBlockLayout.portal, ec: VirtioBlockLayout.handlerEC, entry: handler, portalID: service.id) == .success
    else { return fail("creating the handler EC or the block portal failed") }
    UTCB(platform: platform, base: VirtioBlockLayout.handlerUTCB).setReceiveWindows(objects: .null, memory: bufferWindow)
    let status = ServiceRegistration.register(utcb, serviceID: service.id, landing: service.landing,
                                              portal: VirtioBlockLayout.portal)
    guard status == .success else { return fail("registering block failed: \(status)") }
    idle(sys)
}

let bufferWindow = CapabilityRange(kind: .memory, base: BlockProtocol.bufferWindow >> AddressLayout.pageShift,
                                   order: BlockProtocol.bufferOrder, permissions: Permissions.read | Permissions.write)

/// Whether this driver run found its device running (a previous run of the driver died with requests at it).
public func virtioBlockFoundDeviceRunning<P: UserPlatform>(_ platform: P) -> Bool {
    guard let state = platform.componentState else { return false }
    return unsafeDowncast(state, to: VirtioBlockDevice<P>.self).foundRunning
}

/// The `block` portal handler (entry slot 1). `beforeReply` sees each request's untyped words once it was served
/// and before the caller hears back: the restart tests make the driver fault there, with requests at the device.
public func virtioBlockPortal<P: UserPlatform>(_ platform: P, startInfo: UInt64,
                                               beforeReply: (P, [UInt64]) -> Void = { _, _ in }) {
    let sys = SystemCalls(platform)
    let utcb = UTCB(platform: platform, base: VirtioBlockLayout.handlerUTCB)
    while true {
        let request = (0..<min(utcb.untypedCount, 5)).map { utcb.data($0) }
        let reply = serveBlock(platform, utcb)
        beforeReply(platform, request)
        utcb.setMessage(untyped: reply)
        utcb.setReceiveWindows(objects: .null, memory: bufferWindow)
        _ = sys.reply()
    }
}

private func refuse(_ status: Status, _ reason: BlockRequestError) -> [UInt64] { [status.rawValue, reason.rawValue] }

private func serveBlock<P: UserPlatform>(_ platform: P, _ utcb: UTCB<P>) -> [UInt64] {
    // Only the main EC sets the slot, to this type (before the portal exists).
    guard let state = platform.componentState else { return [Status.badState.rawValue] }
    let blk = unsafeDowncast(state, to: VirtioBlockDevice<P>.self)
    blk.platform = platform
    guard utcb.untypedCount >= 1, let operation = BlockOperation(rawValue: utcb.data(0)) else {
        return refuse(.badRange, .malformed)
    }
    switch operation {
    case .info:
        return [Status.success.rawValue, blk.sectors, BlockProtocol.sectorSize, UInt64(BlockProtocol.maxInFlight)]
    case .attach:
        return attach(platform, utcb, blk)
    case .statistics:
        return [Status.success.rawValue, blk.completions, UInt64(blk.missedInterrupts)]
    case .submit:
        guard utcb.untypedCount >= 5, let kind = BlockRequestKind(rawValue: utcb.data(1)) else {
            return refuse(.badRange, .badKind)
        }
        let request = BlockRequest(kind: kind, sector: utcb.data(2), count: utcb.data(3), offset: utcb.data(4))
        switch blk.submit(request) {
        case .success(let tag): return [Status.success.rawValue, tag]
        case .failure(let e): return refuse(status(for: e), e)
        }
    case .wait:
        guard utcb.untypedCount >= 2 else { return refuse(.badRange, .malformed) }
        switch blk.wait(utcb.data(1)) {
        case .success: return [Status.success.rawValue, 0]
        case .failure(let e): return refuse(status(for: e), e)
        }
    }
}

/// The pages that landed in the window become the buffer (once: a second attach finds the window occupied, which
/// the kernel refuses before the driver sees it).
private func attach<P: UserPlatform>(_ platform: P, _ utcb: UTCB<P>, _ blk: VirtioBlockDevice<P>) -> [UInt64] {
    guard utcb.typedCount == 1 else { return refuse(.badRange, .noBuffer) }
    var pages: UInt64 = 0
    while pages < (1 << BlockProtocol.bufferOrder),
          PhysicalPages.physical(platform, virtual: BlockProtocol.bufferWindow + pages * AddressLayout.pageSize) != nil {
        pages += 1
    }
    guard pages > 0 else { return refuse(.badRange, .noBuffer) }
    blk.bufferPages = pages
    return [Status.success.rawValue, pages]
}

private func status(for error: BlockRequestError) -> Status {
    switch error {
    case .bufferNotHeld, .noBuffer: return .insufficientRights
    case .overlapping, .queueFull, .busy: return .badState
    case .timeout: return .timeout
    case .deviceError: return .aborted
    default: return .badRange
    }
}

func idle<P: UserPlatform>(_ sys: SystemCalls<P>) {
    _ = sys.createSM(VirtioBlockLayout.idleSM, count: 0)
    while sys.down(sm: VirtioBlockLayout.idleSM) == .success {}
}

/// The modern interface's registers, from the device's virtio capabilities, in memory BARs the root task mapped
/// for the driver; why not, when it cannot be used.
func modernTransport<P: UserPlatform>(_ platform: P, pci: PCIClient<P>, device: PCIFunction,
                                      mmio: [ComponentStartInfo.MMIOGrant]) -> Result<VirtioTransport, VirtioModernUnavailable> {
    /// The virtual address of BAR `index` + `offset` when `length` bytes from there are granted.
    func mapped(_ index: Int, _ offset: UInt64, _ length: UInt64) -> UInt64? {
        guard let bar = device.bars.first(where: { $0.index == index && !$0.isIO }), offset <= bar.size,
              length <= bar.size - offset else { return nil }
        let physical = bar.base + offset
        guard let grant = mmio.first(where: { $0.physicalBase <= physical && physical - $0.physicalBase <= $0.size
                                              && length <= $0.size - (physical - $0.physicalBase) }) else { return nil }
        return grant.virtualAddress + (physical - grant.physicalBase)
    }
    let config = PCIClientConfigAccess(client: pci, index: 0)
    let caps: VirtioPCICapabilities
    switch VirtioPCICapabilities.read(config, device.address, isMemoryBAR: { i in mapped(i, 0, 1) != nil }) {
    case .success(let c): caps = c
    case .failure(let problem): return .failure(VirtioModernUnavailable(problem.description))
    }
    guard let common = mapped(caps.common.bar, caps.common.offset, VirtioPCICapabilities.commonLength),
          let isr = mapped(caps.isr.bar, caps.isr.offset, 1),
          let deviceConfig = mapped(caps.device.bar, caps.device.offset, VirtioPCICapabilities.deviceLength)
    else { return .failure(VirtioModernUnavailable("a virtio structure lies outside its granted BAR")) }
    // Queue 0's notify register: the notification area plus the queue's offset times the multiplier.
    platform.store16(common + VirtioTransport.queueSelect, 0)
    let notifyOffset = UInt64(platform.load16(common + VirtioTransport.queueNotifyOff)) * UInt64(caps.notifyMultiplier)
    guard notifyOffset <= caps.notify.length, caps.notify.length - notifyOffset >= 2,
          let notify = mapped(caps.notify.bar, caps.notify.offset + notifyOffset, 2)
    else { return .failure(VirtioModernUnavailable("queue 0's notify register lies outside its notification area")) }
    return .success(.modern(common: common, notify: notify, isr: isr, device: deviceConfig))
}

/// Why the modern interface cannot be used (the driver then tries the legacy one).
struct VirtioModernUnavailable: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Assigns the message interrupt for the device (its requester ID: under interrupt remapping its entry admits only
/// this device) and has the PCI driver put its message in MSI-X table entry 0; why not, when either refuses.
func enableMSIX<P: UserPlatform>(_ sys: SystemCalls<P>, pci: PCIClient<P>, device: PCIFunction,
                                 message: ComponentStartInfo.InterruptGrant) -> String? {
    let assigned = sys.assignMessageInterrupt(sm: message.semaphore, number: message.irq,
                                              requester: UInt64(device.address.routingID))
    guard assigned.status == .success else { return "assigning message interrupt \(message.irq): \(assigned.status)" }
    if case .failure(let e) = pci.enableMSIX(0, entry: 0, messageInterrupt: message.irq) {
        _ = sys.releaseInterrupt(sm: message.semaphore, irq: message.irq)
        return "\(e)"
    }
    return nil
}
