/// The VMM in the firmware's role: a guest booted without a BIOS (Linux's direct boot) finds its BARs already
/// programmed and decoding, as SeaBIOS or OVMF would leave them. Linux keeps such assignments; a guest that
/// reassigns them simply writes the BARs again.
extension PCIBus {
    /// Places every BAR of every function in the given windows (end exclusive), largest first so natural alignment
    /// wastes nothing, and enables I/O or memory decoding on each function that has such BARs. Bus mastering stays
    /// off: the driver turns it on.
    public func assignResources(memoryBase: UInt64, memoryEnd: UInt64, ioBase: UInt16, ioEnd: UInt16)
        throws(PCIConfigurationError) {
        struct Request { let slot: Int; let bar: Int; let definition: PCIBaseAddressRegister }
        var requests: [Request] = []
        for slot in 0..<Self.slotCount {
            guard let function = function(slot: slot) else { continue }
            for bar in 0..<PCIConfigurationSpace.barCount {
                if let definition = function.configurationSpace.barDefinition(bar) {
                    requests.append(Request(slot: slot, bar: bar, definition: definition))
                }
            }
        }
        // Stable: equal sizes keep slot order.
        let ordered = requests.enumerated().sorted { a, b in
            a.element.definition.size != b.element.definition.size
                ? a.element.definition.size > b.element.definition.size : a.offset < b.offset
        }.map { $0.element }

        var nextMemory = memoryBase
        var nextIO = UInt64(ioBase)
        for request in ordered {
            let size = request.definition.size
            let isIO = request.definition.kind == .io
            let cursor = isIO ? nextIO : nextMemory
            let end = isIO ? UInt64(ioEnd) : memoryEnd
            let base = (cursor &+ size &- 1) & ~(size &- 1)
            guard base >= cursor, base &+ size > base, base &+ size <= end,
                  request.definition.kind != .memory32 || base &+ size <= 1 << 32 else {
                throw .resourceWindowTooSmall(bar: request.bar, slot: request.slot, size: size)
            }
            let offset = PCIConfigurationSpace.Register.bar0 + 4 * request.bar
            writeConfiguration(slot: request.slot, offset: offset, size: 4, value: UInt32(truncatingIfNeeded: base))
            if request.definition.kind == .memory64 {
                writeConfiguration(slot: request.slot, offset: offset + 4, size: 4,
                                   value: UInt32(truncatingIfNeeded: base >> 32))
            }
            if isIO { nextIO = base &+ size } else { nextMemory = base &+ size }
        }
        for slot in 0..<Self.slotCount {
            guard let function = function(slot: slot) else { continue }
            var enable: UInt16 = 0
            for bar in 0..<PCIConfigurationSpace.barCount {
                guard let definition = function.configurationSpace.barDefinition(bar) else { continue }
                enable |= definition.kind == .io ? PCIConfigurationSpace.Command.ioSpace
                    : PCIConfigurationSpace.Command.memorySpace
            }
            guard enable != 0 else { continue }
            let command = function.configurationSpace.command | enable
            writeConfiguration(slot: slot, offset: PCIConfigurationSpace.Register.command, size: 2,
                               value: UInt32(command))
        }
    }
}
