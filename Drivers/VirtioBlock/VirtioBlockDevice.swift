import BlockService
import KernelABI
import UserRuntime

/// A virtio-blk device (legacy or modern interface, `VirtioTransport`) with one request queue. Lives in the
/// component's state slot (`UserPlatform.componentState`): the portal handler's frames do not survive a reply,
/// this object does.
///
/// Memory: `queuePages` hold the virtqueue, `headerPage` the request headers (16 bytes per slot) and status bytes
/// (at +2048). Client buffers are the pages at `BlockProtocol.bufferWindow`. Device addresses: with `translated`
/// (the device is bound to this PD by the IOMMU and speaks ACCESS_PLATFORM) the driver's own virtual addresses;
/// else physical ones, and then the queue pages are physically contiguous (checked; each page's virtual address in
/// physical order, since a restarted driver's heap need not be in that order).
/// Invariants: a slot is in flight exactly when `slots[i]` is non-nil; its descriptors are off the free list until
/// the device returns its head in the used ring; `lastUsed` trails the device's used index.
final class VirtioBlockDevice<P: UserPlatform> {
    struct Slot {
        var request: BlockRequest
        var head: UInt16
        var descriptors: [UInt16]
        var generation: UInt64
        var done = false
    }

    /// The platform of the EC using the device now: the main EC sets it up, the portal handler serves requests
    /// (`serveBlock` sets it per call; in the simulator a platform object belongs to one EC).
    var platform: P
    let transport: VirtioTransport
    let translated: Bool
    let queuePages: [UInt64]
    /// Device addresses of the queue's first byte and of the header page.
    let queueDMA: UInt64
    let headerPage: UInt64
    let headerDMA: UInt64
    let layout: VirtqueueLayout
    var interrupt: UInt64?
    let idleSM: UInt64
    let ticksPerMillisecond: UInt64
    private(set) var sectors: UInt64 = 0
    let supportsFlush: Bool
    var bufferPages: UInt64?
    private var slots: [Slot?] = Array(repeating: nil, count: BlockProtocol.maxInFlight)
    private var freeDescriptors: [UInt16] = []
    private var nextAvailable: UInt16 = 0
    private var lastUsed: UInt16 = 0
    private var generation: UInt64 = 1
    /// Completions found only after a wait timed out: an interrupt that did not arrive (should stay 0).
    private(set) var missedInterrupts = 0
    /// Requests the device returned in the used ring.
    private(set) var completions: UInt64 = 0
    /// The device was running when this driver started (a previous driver died with it): the reset stopped it.
    var foundRunning = false

    init(platform: P, transport: VirtioTransport, translated: Bool, supportsFlush: Bool, queuePages: [UInt64],
         queueDMA: UInt64, headerPage: UInt64, headerDMA: UInt64, layout: VirtqueueLayout, interrupt: UInt64?,
         idleSM: UInt64, ticksPerMillisecond: UInt64) {
        self.platform = platform
        self.transport = transport
        self.translated = translated
        self.supportsFlush = supportsFlush
        self.queuePages = queuePages
        self.queueDMA = queueDMA
        self.headerPage = headerPage
        self.headerDMA = headerDMA
        self.layout = layout
        self.interrupt = interrupt
        self.idleSM = idleSM
        self.ticksPerMillisecond = ticksPerMillisecond
        freeDescriptors = (0..<UInt16(layout.size)).reversed().map { $0 }
    }

    var inFlight: [BlockRequest] { slots.compactMap { $0.map { $0.request } } }

    // MARK: set-up (virtio 1.2 §3.1.1; the legacy interface the same without FEATURES_OK)

    /// What the device and the driver agreed on before the queue exists.
    struct Negotiated {
        var flush: Bool
        var accessPlatform: Bool
        var queueSize: UInt64
        /// The status the device had before the reset: non-zero when a previous driver (one that died) left it
        /// running; the firmware resets its devices before handing over.
        var previousStatus: UInt8
    }

    /// Resets the device (it forgets every request of a previous driver run), acknowledges it and agrees on the
    /// features: flush if offered; on the modern interface version 1 (required) and ACCESS_PLATFORM if offered.
    /// Nil when the device refuses them. Call before bus mastering is turned on.
    static func negotiate(platform: P, transport: VirtioTransport) -> Negotiated? {
        let previous = transport.status(platform)
        transport.reset(platform)
        transport.setStatus(platform, VirtioLegacy.acknowledge)
        transport.setStatus(platform, VirtioLegacy.acknowledge | VirtioLegacy.driver)
        let offered = transport.deviceFeatures(platform)
        var wanted = offered & VirtioTransport.flushFeature
        if transport.isModern {
            guard offered & VirtioTransport.version1Feature != 0 else { return nil }
            wanted |= offered & (VirtioTransport.version1Feature | VirtioTransport.accessPlatformFeature)
        }
        guard transport.setDriverFeatures(platform, wanted, status: VirtioLegacy.acknowledge | VirtioLegacy.driver)
        else {
            transport.setStatus(platform, VirtioLegacy.failed)
            return nil
        }
        return Negotiated(flush: wanted & VirtioTransport.flushFeature != 0,
                          accessPlatform: wanted & VirtioTransport.accessPlatformFeature != 0,
                          queueSize: transport.queueSize(platform), previousStatus: previous)
    }

    /// Gives the device the (zeroed) queue, its interrupt (MSI-X table entry `vector`, or INTx) and turns it on;
    /// false when the device refuses the vector (then it signals nothing: the caller falls back to INTx).
    func start(vector: UInt16 = VirtioTransport.noVector) -> Bool {
        for page in queuePages { for w in 0..<UInt64(512) { platform.store64(page + w * 8, 0) } }
        guard transport.setQueue(platform, layout: layout, base: queueDMA, vector: vector) else { return false }
        let features: UInt8 = transport.isModern ? VirtioTransport.featuresOK : 0
        transport.setStatus(platform, VirtioLegacy.acknowledge | VirtioLegacy.driver | features | VirtioLegacy.driverOK)
        sectors = transport.capacity(platform)
        return true
    }

    /// Stops the device: it forgets the queue and will not DMA any more (before buffers are reused).
    func reset() { transport.reset(platform) }

    /// The device address of a byte the driver holds (nil: not held).
    func deviceAddress(_ virtual: UInt64) -> UInt64? {
        guard let physical = PhysicalPages.physical(platform, virtual: virtual) else { return nil }
        return translated ? virtual : physical
    }

    // MARK: requests

    /// Checks, builds the descriptor chain (header, one descriptor per buffer page piece, status), makes it
    /// available and notifies; the tag for `wait`.
    func submit(_ request: BlockRequest) -> Result<UInt64, BlockRequestError> {
        let bufferBytes = bufferPages.map { $0 * AddressLayout.pageSize }
        if let error = request.check(sectors: sectors, bufferBytes: bufferBytes, inFlight: inFlight) { return .failure(error) }
        if request.kind == .flush && !supportsFlush { return .failure(.badKind) }
        guard let slot = slots.firstIndex(where: { $0 == nil }) else { return .failure(.queueFull) }
        // The buffer's pieces: each page still held (the client may have revoked it since attaching).
        var pieces: [(address: UInt64, length: UInt64)] = []
        var at = request.offset
        while at < request.offset + request.bytes {
            let pageEnd = (at | (AddressLayout.pageSize - 1)) + 1
            let length = min(pageEnd, request.offset + request.bytes) - at
            guard let address = deviceAddress(BlockProtocol.bufferWindow + at) else { return .failure(.bufferNotHeld) }
            pieces.append((address, length))
            at += length
        }
        let needed = pieces.count + 2
        guard freeDescriptors.count >= needed else { return .failure(.queueFull) }
        var chain: [UInt16] = []
        for _ in 0..<needed { chain.append(freeDescriptors.removeLast()) }

        let header = headerPage + UInt64(slot) * 16
        let type: UInt64 = request.kind == .read ? 0 : request.kind == .write ? 1 : 4
        platform.store64(header, type)
        platform.store64(header + 8, request.kind == .flush ? 0 : request.sector)
        let status = headerPage + 2048 + UInt64(slot)
        platform.store8(status, 0xff)
        let deviceWrites = request.kind == .read
        writeDescriptor(chain[0], address: headerDMA + UInt64(slot) * 16, length: 16, writable: false, next: chain[1])
        for (k, piece) in pieces.enumerated() {
            writeDescriptor(chain[1 + k], address: piece.address, length: piece.length, writable: deviceWrites,
                            next: chain[2 + k])
        }
        writeDescriptor(chain[needed - 1], address: headerDMA + 2048 + UInt64(slot), length: 1, writable: true, next: nil)

        generation += 1
        slots[slot] = Slot(request: request, head: chain[0], descriptors: chain, generation: generation)
        let ring = layout.available
        store16(queue(ring + 4 + 2 * (UInt64(nextAvailable) % layout.size)), chain[0])
        nextAvailable &+= 1
        store16(queue(ring + 2), nextAvailable)
        transport.notify(platform)
        return .success(generation << 8 | UInt64(slot))
    }

    /// Waits until the request `tag` completes (interrupts, or a timed poll when a wait runs out); frees its slot.
    func wait(_ tag: UInt64) -> Result<Void, BlockRequestError> {
        let slot = Int(tag & 0xff)
        guard slot < slots.count, let s = slots[slot], s.generation == tag >> 8 else { return .failure(.unknownTag) }
        let sys = SystemCalls(platform)
        var waited: UInt64 = 0
        while !(slots[slot]?.done ?? true) {
            if drainUsed() > 0 { continue }
            let sm = interrupt ?? idleSM
            let status = sys.down(sm: sm, deadline: platform.timestamp() + 100 * ticksPerMillisecond)
            if status == .success {
                transport.acknowledgeInterrupt(platform) // the level line drops
            } else if status == .timeout {
                waited += 100
                if drainUsed() > 0 && interrupt != nil { missedInterrupts += 1 }
                if waited >= 10_000 { return .failure(.timeout) }
            } else {
                return .failure(.deviceError)
            }
        }
        let result = platform.load8(headerPage + 2048 + UInt64(slot))
        slots[slot] = nil
        return result == 0 ? .success(()) : .failure(.deviceError)
    }

    /// Takes every completion the device has put in the used ring; how many.
    private func drainUsed() -> Int {
        let used = layout.used
        var taken = 0
        while lastUsed != load16(queue(used + 2)) {
            let element = queue(used + 4 + 8 * (UInt64(lastUsed) % layout.size))
            let head = UInt16(truncatingIfNeeded: load32(element))
            lastUsed &+= 1
            taken += 1
            completions += 1
            guard let slot = slots.firstIndex(where: { $0?.head == head && $0?.done == false }), let s = slots[slot] else {
                continue
            }
            freeDescriptors += s.descriptors
            slots[slot]?.done = true
        }
        return taken
    }

    // MARK: ring memory (the driver is the only writer of descriptors and the available ring)

    /// The virtual address of byte `offset` of the queue. Every access is aligned and at most 8 bytes wide, so
    /// none crosses a page.
    private func queue(_ offset: UInt64) -> UInt64 {
        queuePages[Int(offset >> AddressLayout.pageShift)] + (offset & (AddressLayout.pageSize - 1))
    }

    private func writeDescriptor(_ index: UInt16, address: UInt64, length: UInt64, writable: Bool, next: UInt16?) {
        let at = queue(layout.descriptors + 16 * UInt64(index))
        let flags = (writable ? VirtqueueLayout.writeFlag : 0) | (next != nil ? VirtqueueLayout.nextFlag : 0)
        platform.store64(at, address)
        platform.store64(at + 8, length | flags << 32 | UInt64(next ?? 0) << 48)
    }

    /// A 16-bit store as one aligned 64-bit store of its word (the device never writes this ring).
    private func store16(_ address: UInt64, _ value: UInt16) {
        let word = address & ~7, shift = (address & 7) * 8
        platform.store64(word, platform.load64(word) & ~(0xffff << shift) | UInt64(value) << shift)
    }

    private func load16(_ address: UInt64) -> UInt16 {
        UInt16(truncatingIfNeeded: platform.load64(address & ~7) >> ((address & 7) * 8))
    }

    private func load32(_ address: UInt64) -> UInt32 {
        UInt32(truncatingIfNeeded: platform.load64(address & ~7) >> ((address & 7) * 8))
    }
}
