/// A virtio device on the PCI bus through the modern transport (virtio 1.2, §4.1): a PCI function whose BAR 4
/// holds the common configuration, ISR, device configuration and notification structures, each found through a
/// vendor-specific capability, plus the VIRTIO_PCI_CAP_PCI_CFG window onto BAR 4 from configuration space.
///
/// Interrupts use INTx only: no MSI-X capability is advertised, so Linux's virtio_pci falls back to one shared,
/// level-triggered INTA# (`vp_find_vqs_intx`). The line is high while the ISR is non-zero (and INTx is not disabled
/// in the command register); reading the ISR returns it, clears it and drops the line.
///
/// A guest error the device cannot serve past (a ring outside memory, a looping chain, a malformed request) sets
/// DEVICE_NEEDS_RESET, raises a configuration interrupt once the driver is running (§2.1.2), records `failure`
/// and stops the device until the driver resets it. Nothing a guest does traps.
public final class VirtioPCIFunction: PCIFunction, MMIODevice {
    public let configurationSpace: PCIConfigurationSpace
    public let device: VirtioDevice
    public let log = VirtioDiagnosticLog()
    let memory: GuestPhysicalMemory
    let queues: [VirtioQueue]
    /// What the device offers: its own bits, VERSION_1 and indirect descriptors.
    public let offeredFeatures: UInt64

    var deviceFeatureSelect: UInt32 = 0
    var driverFeatureSelect: UInt32 = 0
    public internal(set) var driverFeatures: UInt64 = 0
    /// The driver wrote a non-zero word beyond feature bit 63: FEATURES_OK will be refused.
    var driverFeaturesBeyond64 = false
    public internal(set) var deviceStatus: UInt8 = 0
    var queueSelect: UInt16 = 0
    /// ISR status: bit 0 queue interrupt, bit 1 configuration change.
    public internal(set) var interruptStatus: UInt8 = 0
    /// The error that stopped the device (cleared by a reset).
    public internal(set) var failure: VirtioError?
    var interruptPin: PCIInterruptPin?
    let pciConfigurationWindow: Int

    static let isrQueue: UInt8 = 1
    static let isrConfiguration: UInt8 = 2

    public init(device: VirtioDevice, memory: GuestPhysicalMemory) throws(VirtioError) {
        self.device = device
        self.memory = memory
        var queues: [VirtioQueue] = []
        for (index, size) in device.queueSizes.enumerated() {
            queues.append(try VirtioQueue(index: index, maximumSize: size))
        }
        self.queues = queues
        offeredFeatures = device.features | VirtioFeature.version1 | VirtioFeature.ringIndirectDescriptors
        configurationSpace = PCIConfigurationSpace(identity: PCIFunctionIdentity(
            vendorID: VirtioPCILayout.vendorID, deviceID: VirtioPCILayout.deviceIDBase &+ device.deviceID,
            revision: VirtioPCILayout.revision, classCode: device.pciClassCode,
            subsystemVendorID: VirtioPCILayout.subsystemVendorID, subsystemID: VirtioPCILayout.subsystemID,
            interruptPin: 1))
        do {
            pciConfigurationWindow = try Self.buildCapabilities(configurationSpace)
        } catch {
            throw .deviceSetup(error.message)
        }
    }

    /// BAR 4 and the capability chain: common, notify, ISR, device, PCI configuration access.
    private static func buildCapabilities(_ space: PCIConfigurationSpace) throws(PCIConfigurationError) -> Int {
        guard let bar = PCIBaseAddressRegister(kind: .memory64, size: VirtioPCILayout.barSize) else {
            throw .barIndexOutOfRange(VirtioPCILayout.bar)
        }
        // Not prefetchable: reading the ISR has a side effect.
        try space.defineBAR(VirtioPCILayout.bar, bar)
        let length = UInt32(VirtioPCILayout.regionLength)
        try space.addCapability(id: VirtioPCILayout.vendorCapabilityID,
                                payload: capability(.common, offset: VirtioPCILayout.commonOffset, length: length))
        try space.addCapability(id: VirtioPCILayout.vendorCapabilityID,
                                payload: capability(.notify, offset: VirtioPCILayout.notifyOffset, length: length,
                                                    extra: littleEndian(VirtioPCILayout.notifyOffMultiplier)))
        try space.addCapability(id: VirtioPCILayout.vendorCapabilityID,
                                payload: capability(.isr, offset: VirtioPCILayout.isrOffset, length: length))
        try space.addCapability(id: VirtioPCILayout.vendorCapabilityID,
                                payload: capability(.device, offset: VirtioPCILayout.deviceOffset, length: length))
        // The window's bar, offset and length fields are the driver's; its data dword is intercepted.
        let window = capability(.pciConfiguration, offset: 0, length: 0, extra: [0, 0, 0, 0])
        var mask = [UInt8](repeating: 0, count: window.count)
        for i in [2, 6, 7, 8, 9, 10, 11, 12, 13] { mask[i] = 0xff }
        return try space.addCapability(id: VirtioPCILayout.vendorCapabilityID, payload: window, writableMask: mask)
    }

    private enum Structure { case common, notify, isr, device, pciConfiguration }

    /// struct virtio_pci_cap after cap_vndr and cap_next: cap_len, cfg_type, bar, id, padding, offset, length.
    private static func capability(_ structure: Structure, offset: UInt64, length: UInt32, extra: [UInt8] = [])
        -> [UInt8] {
        let type: UInt8
        switch structure {
        case .common: type = VirtioPCILayout.CapabilityType.common
        case .notify: type = VirtioPCILayout.CapabilityType.notify
        case .isr: type = VirtioPCILayout.CapabilityType.isr
        case .device: type = VirtioPCILayout.CapabilityType.device
        case .pciConfiguration: type = VirtioPCILayout.CapabilityType.pciConfiguration
        }
        let bar = structure == .pciConfiguration ? UInt8(0) : UInt8(VirtioPCILayout.bar)
        return [UInt8(16 + extra.count), type, bar, 0, 0, 0] + littleEndian(UInt32(offset)) + littleEndian(length)
            + extra
    }

    static func littleEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8),
         UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 24)]
    }

    /// "virtio 00:SS.0" once placed on the bus, for log lines.
    var name: String {
        guard let pin = interruptPin else { return "virtio (unplaced)" }
        return "virtio 00:" + (pin.slot < 16 ? "0" : "") + String(pin.slot, radix: 16) + ".0"
    }

    func note(_ message: String) { log.record(name + ": " + message) }

    // MARK: - PCIFunction

    public func connect(interrupt: PCIInterruptPin) {
        interruptPin = interrupt
        updateInterruptLine()
    }

    public func memoryHandler(bar: Int) -> MMIODevice? { bar == VirtioPCILayout.bar ? self : nil }

    public func readConfiguration(offset: Int, size: Int) -> UInt32 {
        let data = pciConfigurationWindow + VirtioPCILayout.PCIConfigurationWindow.data
        guard offset < data + 4, offset + size > data else {
            return configurationSpace.read(offset: offset, size: size)
        }
        guard offset == data, let (barOffset, length) = windowTarget() else {
            note("PCI configuration window read at offset \(offset) size \(size) with an invalid window: reads 0")
            return 0
        }
        let value = UInt32(truncatingIfNeeded: mmioRead(offset: barOffset, size: length))
        return size == 4 ? value : value & PCIConfigurationSpace.allOnes(size: size)
    }

    public func writeConfiguration(offset: Int, size: Int, value: UInt32) {
        let data = pciConfigurationWindow + VirtioPCILayout.PCIConfigurationWindow.data
        guard offset < data + 4, offset + size > data else {
            configurationSpace.write(offset: offset, size: size, value: value)
            updateInterruptLine()  // the INTx disable bit may have changed
            return
        }
        guard offset == data, let (barOffset, length) = windowTarget() else {
            note("PCI configuration window write at offset \(offset) size \(size) with an invalid window: dropped")
            return
        }
        mmioWrite(offset: barOffset, size: length, value: UInt64(value))
    }

    /// The BAR offset and access width the window names, if the driver set it up as §4.1.4.9 asks: BAR 4, a
    /// length of 1, 2 or 4 and an offset aligned to it inside the BAR.
    private func windowTarget() -> (UInt64, Int)? {
        let base = pciConfigurationWindow
        let bar = configurationSpace.load(base + VirtioPCILayout.PCIConfigurationWindow.bar, size: 1)
        let offset = UInt64(configurationSpace.load(base + VirtioPCILayout.PCIConfigurationWindow.offset, size: 4))
        let length = configurationSpace.load(base + VirtioPCILayout.PCIConfigurationWindow.length, size: 4)
        guard bar == UInt32(VirtioPCILayout.bar), length == 1 || length == 2 || length == 4,
              offset % UInt64(length) == 0, offset + UInt64(length) <= VirtioPCILayout.barSize else { return nil }
        return (offset, Int(length))
    }

    // MARK: - BAR 4

    public func mmioRead(offset: UInt64, size: Int) -> UInt64 {
        guard size == 1 || size == 2 || size == 4 || size == 8 else { return UInt64.max }
        guard offset < VirtioPCILayout.barSize, UInt64(size) <= VirtioPCILayout.barSize - offset else {
            return 0
        }
        let region = offset / VirtioPCILayout.regionLength
        let inner = Int(offset % VirtioPCILayout.regionLength)
        switch region * VirtioPCILayout.regionLength {
        case VirtioPCILayout.commonOffset:
            return Self.extract(commonConfigurationImage(), offset: inner, size: size)
        case VirtioPCILayout.isrOffset:
            guard inner == 0 else { return 0 }
            return UInt64(takeInterruptStatus())
        case VirtioPCILayout.deviceOffset:
            return Self.extract(device.configuration, offset: inner, size: size)
        default:
            return 0  // the notification area reads as zero
        }
    }

    public func mmioWrite(offset: UInt64, size: Int, value: UInt64) {
        guard size == 1 || size == 2 || size == 4 || size == 8, offset < VirtioPCILayout.barSize,
              UInt64(size) <= VirtioPCILayout.barSize - offset else {
            note("BAR 4 write of \(size) bytes at offset \(VirtioError.hex(offset)) outside the BAR: dropped")
            return
        }
        let region = offset / VirtioPCILayout.regionLength
        let inner = Int(offset % VirtioPCILayout.regionLength)
        switch region * VirtioPCILayout.regionLength {
        case VirtioPCILayout.commonOffset:
            writeCommonConfiguration(offset: inner, size: size, value: value)
        case VirtioPCILayout.isrOffset:
            note("write to the read-only ISR status: dropped")
        case VirtioPCILayout.deviceOffset:
            var bytes: [UInt8] = []
            for i in 0..<size { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
            if !device.writeConfiguration(offset: inner, bytes: bytes) {
                note("write of \(size) bytes to read-only device configuration at \(inner): dropped")
            }
        default:
            notify(notifyOffset: UInt64(inner))
        }
    }

    /// `size` bytes at `offset` of a little-endian structure; bytes past its end read as zero.
    static func extract(_ bytes: [UInt8], offset: Int, size: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in 0..<size where offset + i < bytes.count {
            value |= UInt64(bytes[offset + i]) << (8 * UInt64(i))
        }
        return value
    }

    // MARK: - Interrupts

    /// Reading the ISR returns it and clears it, which releases INTx (§4.1.4.5).
    private func takeInterruptStatus() -> UInt8 {
        let status = interruptStatus
        interruptStatus = 0
        updateInterruptLine()
        return status
    }

    func raise(_ bits: UInt8) {
        interruptStatus |= bits
        updateInterruptLine()
    }

    func updateInterruptLine() {
        let pending = interruptStatus != 0
        configurationSpace.setInterruptStatus(pending)
        interruptPin?.setAsserted(pending && !configurationSpace.interruptDisabled)
    }

    /// Whether the function drives its INTx line right now.
    public var interruptAsserted: Bool { interruptStatus != 0 && !configurationSpace.interruptDisabled }

    // MARK: - Queue processing

    private func notify(notifyOffset: UInt64) {
        let multiplier = UInt64(VirtioPCILayout.notifyOffMultiplier)
        guard notifyOffset % multiplier == 0, notifyOffset / multiplier < UInt64(queues.count) else {
            note("notification at offset \(VirtioError.hex(notifyOffset)) names no queue: dropped")
            return
        }
        let queue = Int(notifyOffset / multiplier)
        guard failure == nil else { return }  // stopped until reset; the failure was logged once
        guard deviceStatus & VirtioDeviceStatus.driverOK != 0, deviceStatus & VirtioDeviceStatus.failed == 0 else {
            note("notification of queue \(queue) before DRIVER_OK (or after FAILED): dropped")
            return
        }
        guard queues[queue].isEnabled else {
            note("notification of disabled queue \(queue): dropped")
            return
        }
        guard configurationSpace.isBusMaster else {
            note("notification of queue \(queue) with bus mastering off: the device cannot reach memory, dropped")
            return
        }
        process(queues[queue])
    }

    /// Serves the chains available when the notification came (at most the queue size, so a guest that keeps
    /// adding chains from another vCPU cannot hold the VMM here; the kick after those chains brings them).
    func process(_ queue: VirtioQueue) {
        var completed = 0
        do {
            let pending = try queue.pendingCount(memory: memory)
            for _ in 0..<pending {
                let chain = try queue.nextChain(memory: memory)
                let written = try device.process(chain, queue: queue.index, memory: memory)
                try queue.addUsed(head: chain.head, length: written, memory: memory)
                completed += 1
            }
            if completed > 0, try queue.wantsInterrupt(memory: memory) { raise(Self.isrQueue) }
        } catch {
            if completed > 0 { interruptStatus |= Self.isrQueue }
            fail(error)
        }
    }

    /// Stops the device: DEVICE_NEEDS_RESET, and a configuration interrupt if the driver is running.
    func fail(_ error: VirtioError) {
        if failure == nil { failure = error }
        note(error.message + " (device needs reset)")
        deviceStatus |= VirtioDeviceStatus.deviceNeedsReset
        if deviceStatus & VirtioDeviceStatus.driverOK != 0 { raise(Self.isrConfiguration) } else { updateInterruptLine() }
    }
}
