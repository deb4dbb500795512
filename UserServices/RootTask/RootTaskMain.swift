import BootFormat
import ELFFormat
import KernelABI
import ManifestFormat
import UserRuntime

/// The root task's main entry (entry-table slot 0): `startInfo` is `AddressLayout.rootBootInfo`. Reads the boot info,
/// finds the bundle and the compiled manifest, validates the manifest again, and builds the system. Any error in
/// what it was given is printed on the console and the root task halts; it never faults on bad input.
public func rootTaskMain<P: UserPlatform>(_ platform: P, startInfo: UInt64) {
    let console = Console(platform: platform)
    let supervisor: Supervisor<P>
    do throws(RootError) {
        supervisor = try prepare(platform, bootInfoAddress: startInfo)
        try supervisor.startAll()
    } catch {
        console.line("root: error: \(error)")
        halt(platform)
    }
    console.line("root: all components started")
    supervisor.serve()
}

/// The root task's portal handler entry (entry-table slot 1): every call to a registration or event portal is
/// copied to the mailbox, handed to the main EC, and answered with the status it decides.
public func rootTaskPortal<P: UserPlatform>(_ platform: P, startInfo: UInt64) {
    let sys = SystemCalls(platform)
    let mailbox = Mailbox(platform: platform, base: RootLayout.mailbox)
    // The platform's notion of "the running UTCB" is the main EC's; this EC's UTCB is at a fixed address.
    let utcb = UTCB(platform: platform, base: RootLayout.handlerUTCB)
    while true {
        mailbox.record(utcb)
        _ = sys.up(sm: RootLayout.requestSM)
        _ = sys.down(sm: RootLayout.doneSM)
        utcb.setMessage(untyped: [mailbox.replyStatus.rawValue])
        utcb.setReceiveWindows(objects: receiveWindow(mailbox.receiveSelector), memory: .null)
        _ = sys.reply()
    }
}

func receiveWindow(_ landingBlock: UInt64) -> CapabilityRange {
    CapabilityRange(kind: .object, base: landingBlock, order: RootLayout.landingOrder, permissions: Permissions.all)
}

/// Stops the root task for good without faulting: waits on a semaphore nobody ups.
func halt<P: UserPlatform>(_ platform: P) -> Never {
    let sys = SystemCalls(platform)
    Console(platform: platform).line("root: halted")
    _ = sys.createSM(RootLayout.haltSM, count: 0)
    while true { _ = sys.down(sm: RootLayout.haltSM) }
}

/// Everything before the first component: boot info, bundle, manifest, memory, the handler EC and its semaphores.
func prepare<P: UserPlatform>(_ platform: P, bootInfoAddress: UInt64) throws(RootError) -> Supervisor<P> {
    let sys = SystemCalls(platform)
    let console = Console(platform: platform)
    let info: RootBootInfo
    do { info = try RootBootInfo.decode { platform.load64(bootInfoAddress + UInt64($0) * 8) } } catch {
        throw .bootInfo(error)
    }
    let bundleBase = AddressLayout.physicalWindow + info.bundleAddress
    let bundle: BootBundle
    // The checksum reads every byte of the bundle (tens of MiB with a Linux guest): a word at a time, not a byte.
    // The bundle is mapped to the end of its last page, so the last word never leaves it.
    var word: (address: UInt64, value: UInt64) = (1, 0)
    func bundleByte(_ offset: Int) -> UInt8 {
        let address = bundleBase + UInt64(offset), aligned = address & ~7
        if word.address != aligned { word = (aligned, platform.load64(aligned)) }
        return UInt8(truncatingIfNeeded: word.value >> ((address & 7) * 8))
    }
    do {
        bundle = try BootBundle.read(size: Int(clamping: info.bundleSize)) { bundleByte($0) }
    } catch {
        throw .bundle(error)
    }
    guard let manifestModule = bundle.entry(named: "manifest") else {
        throw .missingModule(name: "manifest", what: "the system description")
    }
    var blob: [UInt8] = []
    blob.reserveCapacity(Int(manifestModule.size))
    for i in 0..<manifestModule.size { blob.append(platform.load8(bundleBase + manifestModule.offset + i)) }
    let system: SystemDescription
    do { system = try ManifestDecoder.decode(blob) } catch { throw .manifest(error) }
    console.line("root: manifest ok: \(system.components.count) components, \(system.vms.count) VMs")

    guard let own = bundle.entry(named: "roottask") else {
        throw .missingModule(name: "roottask", what: "the root task's own entry table")
    }
    let ownImage: ELFImage
    do { ownImage = try ELFImage(size: own.size) { platform.load8(bundleBase + own.offset + $0) } } catch {
        throw .badBinary(component: "root", binary: "roottask", error)
    }

    var pages = PageAllocator(memory: info.memory, reserved: [PhysicalRange(base: info.bundleAddress, size: info.bundleSize)])
    // The handler EC's stack and the mailbox live in pages the root maps into itself.
    func mapOwn(_ virtual: UInt64) throws(RootError) {
        guard let page = pages.allocate() else { throw .outOfMemory(component: "root") }
        for w in 0..<(AddressLayout.pageSize / 8) { platform.store64(AddressLayout.physicalWindow + page + w * 8, 0) }
        let source = CapabilityRange(kind: .memory, base: (AddressLayout.physicalWindow + page) >> AddressLayout.pageShift,
                                     permissions: Permissions.read | Permissions.write)
        let status = sys.delegate(pd: RootSelectors.ownPD, source: source,
                                  destinationBase: virtual >> AddressLayout.pageShift)
        guard status == .success else { throw .hypercall(what: "mapping \(hex(virtual)) into the root task", status) }
    }
    for p in 1...RootLayout.handlerStackPages { try mapOwn(RootLayout.handlerStackTop - p * AddressLayout.pageSize) }
    try mapOwn(RootLayout.mailbox)

    let supervisor = Supervisor(platform: platform, system: system, bundle: bundle, bundleBase: bundleBase,
                                ticksPerMillisecond: info.ticksPerMillisecond,
                                handlerEntry: EntryTable.address(entry: ownImage.entry, slot: RootLayout.handlerSlot),
                                pages: pages)
    supervisor.configurationWindows = info.configurationWindows
    supervisor.dmaRemapping = info.dmaRemapping
    try supervisor.check(sys.createSM(RootLayout.requestSM, count: 0), "creating the root's request semaphore")
    try supervisor.check(sys.createSM(RootLayout.doneSM, count: 0), "creating the root's done semaphore")
    try supervisor.check(sys.createEC(RootLayout.handlerEC, pd: RootSelectors.ownPD, utcb: RootLayout.handlerUTCB,
                                      stackPointer: RootLayout.handlerStackTop, entry: supervisor.handlerEntry,
                                      global: false, eventBase: RootSelectors.rootEventBase),
                         "creating the root's handler EC")
    // Registered portals land in this block; the handler restores its window from the mailbox after each call.
    let landingBlock = try supervisor.newSelector(order: RootLayout.landingOrder)
    supervisor.landings = SelectorAllocator(first: landingBlock, limit: landingBlock + (1 << RootLayout.landingOrder))
    supervisor.mailbox.receiveSelector = landingBlock
    UTCB(platform: platform, base: RootLayout.handlerUTCB).setReceiveWindows(objects: receiveWindow(landingBlock),
                                                                             memory: .null)
    return supervisor
}
