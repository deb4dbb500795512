/// The 256-byte configuration space of one PCI function with a type 0 header (PCI Local Bus 3.0, §6.1), as the
/// guest reaches it through the bus. Every byte has a mask of the bits the guest may write; everything else is
/// read-only, so a hostile write can change only what real hardware would let it change. BARs get their masks
/// from their size (sizing by writing all ones falls out of that), capabilities are chained from 0x40 on.
public final class PCIConfigurationSpace {
    public static let byteCount = 256

    /// Offsets of the type 0 header's registers.
    public enum Register {
        public static let vendorID = 0x00
        public static let deviceID = 0x02
        public static let command = 0x04
        public static let status = 0x06
        public static let revision = 0x08
        public static let classCode = 0x09
        public static let cacheLineSize = 0x0c
        public static let latencyTimer = 0x0d
        public static let headerType = 0x0e
        public static let bar0 = 0x10
        public static let subsystemVendorID = 0x2c
        public static let subsystemID = 0x2e
        public static let expansionROM = 0x30
        public static let capabilityPointer = 0x34
        public static let interruptLine = 0x3c
        public static let interruptPin = 0x3d
    }

    /// Command register bits.
    public enum Command {
        public static let ioSpace: UInt16 = 1 << 0
        public static let memorySpace: UInt16 = 1 << 1
        public static let busMaster: UInt16 = 1 << 2
        public static let parityErrorResponse: UInt16 = 1 << 6
        public static let serrEnable: UInt16 = 1 << 8
        public static let interruptDisable: UInt16 = 1 << 10
        /// What a guest may set; the rest (special cycles, MWI, VGA snoop, fast back-to-back) is not implemented.
        static let writable: UInt16 = ioSpace | memorySpace | busMaster | parityErrorResponse | serrEnable
            | interruptDisable
    }

    /// Status register bits the model drives.
    public enum Status {
        public static let interruptStatus: UInt16 = 1 << 3
        public static let capabilitiesList: UInt16 = 1 << 4
    }

    public static let firstCapabilityOffset = 0x40
    public static let barCount = 6

    private var bytes: [UInt8]
    private var writableBits: [UInt8]
    private var barDefinitions: [PCIBaseAddressRegister?]
    private var nextFreeCapabilityOffset = PCIConfigurationSpace.firstCapabilityOffset
    private var lastCapabilityOffset: Int?
    public private(set) var identity: PCIFunctionIdentity

    public init(identity: PCIFunctionIdentity) {
        self.identity = identity
        bytes = [UInt8](repeating: 0, count: Self.byteCount)
        writableBits = [UInt8](repeating: 0, count: Self.byteCount)
        barDefinitions = [PCIBaseAddressRegister?](repeating: nil, count: Self.barCount)
        storeDevice(Register.vendorID, size: 2, identity.vendorID)
        storeDevice(Register.deviceID, size: 2, identity.deviceID)
        bytes[Register.revision] = identity.revision
        storeDevice(Register.classCode, size: 3, identity.classCode)
        storeDevice(Register.subsystemVendorID, size: 2, identity.subsystemVendorID)
        storeDevice(Register.subsystemID, size: 2, identity.subsystemID)
        bytes[Register.interruptPin] = identity.interruptPin
        setWritable(Register.command, size: 2, UInt32(Command.writable))
        // Cache line size and latency timer are plain storage (Linux writes both); the interrupt line is a
        // scratch register firmware fills with the routed IRQ and drivers read back.
        writableBits[Register.cacheLineSize] = 0xff
        writableBits[Register.latencyTimer] = 0xff
        writableBits[Register.interruptLine] = 0xff
    }

    // MARK: - Guest access

    /// A configuration read of 1, 2 or 4 bytes at `offset`; all ones for an access outside the 256 bytes.
    public func read(offset: Int, size: Int) -> UInt32 {
        guard Self.isValidAccess(offset: offset, size: size) else { return Self.allOnes(size: size) }
        return load(offset, size: size)
    }

    /// A configuration write: only the writable bits of each byte change. Outside the 256 bytes it is dropped.
    public func write(offset: Int, size: Int, value: UInt32) {
        guard Self.isValidAccess(offset: offset, size: size) else { return }
        for i in 0..<size {
            let byte = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i)))
            let mask = writableBits[offset + i]
            bytes[offset + i] = (bytes[offset + i] & ~mask) | (byte & mask)
        }
    }

    static func isValidAccess(offset: Int, size: Int) -> Bool {
        (size == 1 || size == 2 || size == 4) && offset >= 0 && offset <= byteCount - size
    }

    static func allOnes(size: Int) -> UInt32 {
        size >= 4 ? 0xffff_ffff : (UInt32(1) << (8 * UInt32(max(size, 0)))) &- 1
    }

    // MARK: - Device-side access (bypasses the masks: the device's own registers)

    /// Reads `size` (1...4) bytes little-endian, no checks beyond the array's own.
    func load(_ offset: Int, size: Int) -> UInt32 {
        var value: UInt32 = 0
        for i in 0..<size { value |= UInt32(bytes[offset + i]) << (8 * UInt32(i)) }
        return value
    }

    /// Stores a register the device itself maintains (identity, capability contents, status).
    func storeDevice<T: FixedWidthInteger>(_ offset: Int, size: Int, _ value: T) {
        let wide = UInt64(truncatingIfNeeded: value)
        for i in 0..<size { bytes[offset + i] = UInt8(truncatingIfNeeded: wide >> (8 * UInt64(i))) }
    }

    private func setWritable(_ offset: Int, size: Int, _ mask: UInt32) {
        for i in 0..<size { writableBits[offset + i] = UInt8(truncatingIfNeeded: mask >> (8 * UInt32(i))) }
    }

    // MARK: - Command and status

    public var command: UInt16 { UInt16(truncatingIfNeeded: load(Register.command, size: 2)) }
    public var status: UInt16 { UInt16(truncatingIfNeeded: load(Register.status, size: 2)) }
    public var decodesIO: Bool { command & Command.ioSpace != 0 }
    public var decodesMemory: Bool { command & Command.memorySpace != 0 }
    public var isBusMaster: Bool { command & Command.busMaster != 0 }
    public var interruptDisabled: Bool { command & Command.interruptDisable != 0 }
    public var interruptLine: UInt8 { bytes[Register.interruptLine] }

    /// Status bit 3 mirrors whether the function has an interrupt pending, whether or not INTx is disabled.
    public func setInterruptStatus(_ pending: Bool) {
        var value = status
        if pending { value |= Status.interruptStatus } else { value &= ~Status.interruptStatus }
        storeDevice(Register.status, size: 2, value)
    }

    /// What firmware writes into the interrupt line register after routing the pin.
    public func setInterruptLine(_ line: UInt8) { bytes[Register.interruptLine] = line }

    // MARK: - BARs

    /// Defines BAR `index` (and `index + 1` for a 64-bit memory BAR). The guest then sees the type bits and can
    /// write only the address bits above the size.
    public func defineBAR(_ index: Int, _ bar: PCIBaseAddressRegister) throws(PCIConfigurationError) {
        guard index >= 0, index + bar.slotCount <= Self.barCount else { throw .barIndexOutOfRange(index) }
        for slot in index..<(index + bar.slotCount) where barDefinitions[slot] != nil || isUpperHalf(slot) {
            throw .barAlreadyDefined(slot)
        }
        barDefinitions[index] = bar
        let offset = Register.bar0 + 4 * index
        storeDevice(offset, size: 4, bar.typeBits)
        setWritable(offset, size: 4, bar.lowWritableMask)
        if bar.kind == .memory64 { setWritable(offset + 4, size: 4, bar.highWritableMask) }
    }

    private func isUpperHalf(_ slot: Int) -> Bool {
        slot > 0 && barDefinitions[slot - 1]?.kind == .memory64
    }

    public func barDefinition(_ index: Int) -> PCIBaseAddressRegister? {
        guard index >= 0, index < Self.barCount else { return nil }
        return barDefinitions[index]
    }

    /// Where BAR `index` decodes now, or nil when it is undefined or unprogrammed (base 0, as QEMU treats it), its
    /// space is not enabled in the command register, or an I/O BAR would end above port 0xffff.
    /// A BAR in the middle of sizing (all ones written) lies at the top of the space and decodes like hardware
    /// would; Linux turns decoding off while it sizes.
    public func decodedRegion(_ index: Int) -> PCIBARRegion? {
        guard let bar = barDefinition(index) else { return nil }
        let offset = Register.bar0 + 4 * index
        let low = UInt64(load(offset, size: 4))
        let base: UInt64
        switch bar.kind {
        case .io:
            guard decodesIO else { return nil }
            base = low & ~0x3
            guard base &+ bar.size <= 0x1_0000 else { return nil }
        case .memory32:
            guard decodesMemory else { return nil }
            base = low & ~0xf
        case .memory64:
            guard decodesMemory else { return nil }
            // The base is aligned to the size (the bits below it are read-only zero), so it cannot wrap.
            base = (low & ~0xf) | UInt64(load(offset + 4, size: 4)) << 32
        }
        guard base != 0 else { return nil }
        return PCIBARRegion(bar: index, kind: bar.kind, base: base, size: bar.size)
    }

    // MARK: - Capabilities

    /// Appends a capability (ID, then `payload` after the next pointer) to the chain and returns its offset.
    /// `writableMask`, if given, covers the payload byte for byte; without it the capability is read-only.
    @discardableResult
    public func addCapability(id: UInt8, payload: [UInt8], writableMask: [UInt8]? = nil) throws(PCIConfigurationError)
        -> Int {
        if let mask = writableMask, mask.count != payload.count {
            throw .capabilityMaskLengthMismatch(payload: payload.count, mask: mask.count)
        }
        let offset = nextFreeCapabilityOffset
        let length = 2 + payload.count
        guard offset + length <= Self.byteCount else {
            throw .capabilitySpaceFull(needed: length, free: Self.byteCount - offset)
        }
        bytes[offset] = id
        bytes[offset + 1] = 0
        for (i, byte) in payload.enumerated() {
            bytes[offset + 2 + i] = byte
            writableBits[offset + 2 + i] = writableMask?[i] ?? 0
        }
        if let previous = lastCapabilityOffset {
            bytes[previous + 1] = UInt8(offset)
        } else {
            bytes[Register.capabilityPointer] = UInt8(offset)
            storeDevice(Register.status, size: 2, status | Status.capabilitiesList)
        }
        lastCapabilityOffset = offset
        nextFreeCapabilityOffset = (offset + length + 3) & ~3
        return offset
    }
}
