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
/// turns on I/O decoding and bus mastering there, sets the device up through its legacy I/O BAR with one queue
/// in heap pages (physically contiguous, checked), and registers the `block` service (slot 1 serves it).
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
    guard device.vendor == 0x1af4, (0x1000...0x103f).contains(device.device) else {
        return fail("device \(device.description) is not a transitional virtio device (legacy I/O BAR needed)")
    }
    guard let bar = device.bars.first(where: { $0.index == 0 && $0.isIO }), bar.size >= VirtioLegacy.registerSpan,
          info.ports.contains(where: { $0.first == bar.base && $0.count >= bar.size }) else {
        return fail("device \(device.description) has no granted legacy I/O BAR 0")
    }
    // I/O decoding first and bus mastering only after the reset (in `queueSize`): after a restart the device may
    // still hold requests of the dead driver, whose queue pages the root may have handed out again; the root
    // turned bus mastering off, and the reset makes the device forget them before it may DMA again.
    if case .failure(let e) = pci.setCommand(0, flags: PCICommandFlags.io) {
        return fail("enabling I/O decoding: \(e)")
    }
    let io = UInt16(bar.base)
    let size = VirtioBlockDevice<P>.queueSize(platform: platform, io: io)
    if case .failure(let e) = pci.setCommand(0, flags: PCICommandFlags.io | PCICommandFlags.busMaster) {
        return fail("enabling bus mastering: \(e)")
    }
    guard size > 0, size <= VirtioBlockLayout.maxQueueSize, size & (size - 1) == 0 else {
        return fail("queue 0 has size \(size); expected a power of two up to \(VirtioBlockLayout.maxQueueSize)")
    }
    let layout = VirtqueueLayout(size: size)
    // Heap: the queue pages, one page of headers, and the handler's stack at the top.
    let needed = layout.pages + 1 + VirtioBlockLayout.handlerStackPages
    guard info.heapSize >= needed * AddressLayout.pageSize else {
        return fail("its heap has \(info.heapSize / AddressLayout.pageSize) pages, \(needed) needed")
    }
    // The queue goes in physically contiguous heap pages below the stack (wherever they are), the headers in the
    // first page not among them.
    let usable = info.heapSize / AddressLayout.pageSize - VirtioBlockLayout.handlerStackPages
    guard let queue = PhysicalPages.contiguousRun(platform, virtual: info.heapBase, pages: usable, count: layout.pages) else {
        return fail("no \(layout.pages) physically contiguous pages in its heap for the queue (a legacy queue must be)")
    }
    guard let headers = (0..<usable).map({ info.heapBase + $0 * AddressLayout.pageSize }).first(where: { !queue.virtual.contains($0) })
    else { return fail("no heap page left for the request headers") }
    guard let headerPhysical = PhysicalPages.physical(platform, virtual: headers) else { return fail("header page not held") }
    _ = sys.createSM(VirtioBlockLayout.pollSM, count: 0)
    let blk = VirtioBlockDevice(platform: platform, io: io, queuePages: queue.virtual, queuePhysical: queue.physical,
                                headerPage: headers, headerPhysical: headerPhysical, layout: layout,
                                interrupt: info.interrupts.first?.semaphore, idleSM: VirtioBlockLayout.pollSM,
                                ticksPerMillisecond: info.ticksPerMillisecond)
    blk.start()
    platform.componentState = blk
    _ = log?.write("virtio-blk: \(device.description) at ports 0x\(PCIText.hex(bar.base)), queue of \(size), " +
                   "\(blk.sectors) sectors, " + (info.interrupts.first.map { "irq \($0.irq)" } ?? "polling (no interrupt line)") +
                   (blk.supportsFlush ? ", flush" : ", no flush") + "; DMA is not confined (legacy virtio: an IOMMU does not translate it)\n")

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
