import KernelABI

/// The `pci` service's decisions, apart from IPC: one request of one client, whose devices are `devices`, answered
/// from configuration space `config`. Kept free of the UTCB so the host tests drive it with any words.
public struct PCIService<C: PCIConfigAccess> {
    public let config: C
    /// Stores a 32-bit value at an offset into a BAR of a device: the MSI-X tables, which the root task maps for the
    /// PCI driver only (false: that memory is not mapped). Nil: MSI-X cannot be served.
    public let msixStore: ((PCIFunction, Int, UInt64, UInt32) -> Bool)?

    public init(config: C, msixStore: ((PCIFunction, Int, UInt64, UInt32) -> Bool)? = nil) {
        self.config = config
        self.msixStore = msixStore
    }

    /// `messages`: the client's message interrupts and their messages (for enableMSI).
    public func handle(_ request: [UInt64], devices: [PCIFunction], messages: [PCIMessageGrant] = []) -> [UInt64] {
        let fail = [Status.badRange.rawValue]
        guard let first = request.first, let operation = PCIServiceOperation(rawValue: first) else { return fail }
        if operation == .count { return [Status.success.rawValue, UInt64(devices.count)] }
        guard request.count >= 2, request[1] < UInt64(devices.count) else { return fail }
        let device = devices[Int(request[1])]
        let a = device.address
        switch operation {
        case .count:
            return fail
        case .describe:
            var reply: [UInt64] = [Status.success.rawValue, UInt64(a.routingID),
                                   UInt64(device.vendor) | UInt64(device.device) << 16, UInt64(device.classCode),
                                   device.legacyInterrupt ?? UInt64.max, UInt64(device.bars.count)]
            for bar in device.bars {
                reply += [UInt64(bar.kind.rawValue) | UInt64(bar.index) << 8 | (bar.prefetchable ? 1 << 16 : 0),
                          bar.base, bar.size]
            }
            return reply
        case .read:
            guard request.count >= 4, let width = access(request[3]), request[2] < 0x100,
                  request[2] + UInt64(width.rawValue) <= 0x100, width.isAligned(request[2]) else { return fail }
            return [Status.success.rawValue, UInt64(config.read(a, offset: UInt8(request[2]), width: width))]
        case .write:
            guard request.count >= 5, let width = access(request[3]) else { return fail }
            let verdict = PCIConfigWriteFilter.check(offset: request[2], width: width,
                                                     capabilities: PCICapability.list(config, a))
            guard verdict == .allowed else {
                if case .refused = verdict { return [Status.insufficientRights.rawValue] }
                return fail
            }
            config.write(a, offset: UInt8(request[2]), width: width, UInt32(truncatingIfNeeded: request[4]) & width.mask)
            return [Status.success.rawValue]
        case .setCommand:
            guard request.count >= 3, request[2] & ~PCICommandFlags.all == 0 else { return fail }
            let flags = request[2]
            if flags & PCICommandFlags.io != 0, !device.bars.contains(where: { $0.isIO }) { return fail }
            if flags & PCICommandFlags.memory != 0, !device.bars.contains(where: { !$0.isIO }) { return fail }
            var command = config.read16(a, PCIConfig.command)
            let bits: [(UInt64, UInt16)] = [(PCICommandFlags.io, PCIConfig.commandIO),
                                            (PCICommandFlags.memory, PCIConfig.commandMemory),
                                            (PCICommandFlags.busMaster, PCIConfig.commandBusMaster),
                                            (PCICommandFlags.intxDisable, PCIConfig.commandINTxDisable)]
            for (flag, bit) in bits { command = flags & flag != 0 ? command | bit : command & ~bit }
            config.write16(a, PCIConfig.command, command)
            return [Status.success.rawValue, UInt64(config.read16(a, PCIConfig.command))]
        case .enableMSI:
            guard request.count >= 3 else { return fail }
            guard let grant = messages.first(where: { $0.number == request[2] }) else {
                return [Status.insufficientRights.rawValue]
            }
            return programMSI(a, grant.message)
        case .disableMSI:
            return programMSI(a, nil)
        case .enableMSIX:
            guard request.count >= 4 else { return fail }
            guard let grant = messages.first(where: { $0.number == request[2] }) else {
                return [Status.insufficientRights.rawValue]
            }
            return programMSIX(device, grant.message, entry: request[3])
        case .disableMSIX:
            return programMSIX(device, nil, entry: 0)
        }
    }

    /// Writes `message` into MSI-X table entry `entry`, unmasked, and enables MSI-X (MSI off: a function uses one
    /// or the other), the whole function masked while the entry changes; with nil masks every entry and disables
    /// MSI-X. `badState` without an MSI-X capability or without the table mapped for the driver.
    private func programMSIX(_ device: PCIFunction, _ message: MessageInterrupt?, entry: UInt64) -> [UInt64] {
        let a = device.address
        guard let msix = PCIMSIX.find(config, a), let store = msixStore else { return [Status.badState.rawValue] }
        guard message == nil || entry < UInt64(msix.tableSize) else { return [Status.badRange.rawValue] }
        let controlOffset = msix.capability + 2
        var control = config.read16(a, controlOffset)
        config.write16(a, controlOffset, control | PCIMSIX.functionMask)
        func write(_ index: UInt64, _ word: UInt64, _ value: UInt32) -> Bool {
            store(device, msix.tableBAR, msix.tableOffset + index * PCIMSIX.entryBytes + 4 * word, value)
        }
        if let message {
            if let msi = PCICapability.list(config, a).first(where: { $0.id == PCIConfig.capabilityMSI }) {
                config.write16(a, msi.offset + 2, config.read16(a, msi.offset + 2) & ~PCIConfig.msiEnable)
            }
            guard write(entry, 0, UInt32(truncatingIfNeeded: message.address)),
                  write(entry, 1, UInt32(truncatingIfNeeded: message.address >> 32)),
                  write(entry, 2, UInt32(truncatingIfNeeded: message.data)), write(entry, 3, 0)
            else {
                config.write16(a, controlOffset, control)
                return [Status.badState.rawValue]
            }
            control = (control | PCIMSIX.enable) & ~PCIMSIX.functionMask
        } else {
            for index in 0..<UInt64(msix.tableSize) where !write(index, 3, 1) { break }
            control &= ~(PCIMSIX.enable | PCIMSIX.functionMask)
        }
        config.write16(a, controlOffset, control)
        return [Status.success.rawValue, UInt64(config.read16(a, controlOffset))]
    }

    /// Writes `message` into the MSI capability (address, data; one vector: multiple-message enable 0) and sets
    /// MSI enable, or with nil clears enable. The enable bit is written last, after the message is in place.
    private func programMSI(_ a: PCIAddress, _ message: MessageInterrupt?) -> [UInt64] {
        guard let msi = PCICapability.list(config, a).first(where: { $0.id == PCIConfig.capabilityMSI }) else {
            return [Status.badState.rawValue]
        }
        let controlOffset = msi.offset + 2
        var control = config.read16(a, controlOffset)
        control &= ~PCIConfig.msiEnable
        config.write16(a, controlOffset, control)
        if let message {
            let wide = control & PCIConfig.msi64Bit != 0
            // A capability too close to the end of the space for its structure is broken: nothing is written.
            guard Int(msi.offset) + (wide ? 14 : 10) <= 0x100 else { return [Status.badState.rawValue] }
            guard wide || message.address >> 32 == 0 else { return [Status.badRange.rawValue] }
            config.write(a, offset: msi.offset + 4, width: .dword, UInt32(truncatingIfNeeded: message.address))
            if wide { config.write(a, offset: msi.offset + 8, width: .dword, UInt32(truncatingIfNeeded: message.address >> 32)) }
            config.write16(a, msi.offset + (wide ? 12 : 8), UInt16(truncatingIfNeeded: message.data))
            control = (control & ~PCIConfig.msiMultipleEnable) | PCIConfig.msiEnable
            config.write16(a, controlOffset, control)
        }
        return [Status.success.rawValue, UInt64(config.read16(a, controlOffset))]
    }

    private func access(_ width: UInt64) -> PCIAccessWidth? {
        guard width <= 4 else { return nil }
        return PCIAccessWidth(rawValue: UInt8(width))
    }
}
