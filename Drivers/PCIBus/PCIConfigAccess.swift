/// Reads and writes of one function's configuration space, at any offset of the conventional 256 bytes and a
/// width of 1, 2 or 4 bytes aligned to itself. The mechanism (I/O ports 0xcf8/0xcfc or ECAM) is behind this, so
/// enumeration, BAR probing and the PCI service's write filter do not depend on it.
public protocol PCIConfigAccess: AnyObject {
    func read(_ address: PCIAddress, offset: UInt8, width: PCIAccessWidth) -> UInt32
    func write(_ address: PCIAddress, offset: UInt8, width: PCIAccessWidth, _ value: UInt32)
}

public enum PCIAccessWidth: UInt8, Equatable, Sendable {
    case byte = 1, word = 2, dword = 4

    /// Whether an access of this width at `offset` is naturally aligned (configuration cycles cannot cross a dword).
    public func isAligned(_ offset: UInt64) -> Bool { offset % UInt64(rawValue) == 0 }

    public var mask: UInt32 {
        switch self {
        case .byte: return 0xff
        case .word: return 0xffff
        case .dword: return 0xffff_ffff
        }
    }
}

extension PCIConfigAccess {
    public func read8(_ a: PCIAddress, _ offset: UInt8) -> UInt8 { UInt8(truncatingIfNeeded: read(a, offset: offset, width: .byte)) }
    public func read16(_ a: PCIAddress, _ offset: UInt8) -> UInt16 { UInt16(truncatingIfNeeded: read(a, offset: offset, width: .word)) }
    public func read32(_ a: PCIAddress, _ offset: UInt8) -> UInt32 { read(a, offset: offset, width: .dword) }
    public func write16(_ a: PCIAddress, _ offset: UInt8, _ value: UInt16) { write(a, offset: offset, width: .word, UInt32(value)) }
    public func write32(_ a: PCIAddress, _ offset: UInt8, _ value: UInt32) { write(a, offset: offset, width: .dword, value) }
}

/// Offsets and bits of the type-0 configuration header this project uses.
public enum PCIConfig {
    public static let vendorID: UInt8 = 0x00
    public static let deviceID: UInt8 = 0x02
    public static let command: UInt8 = 0x04
    public static let status: UInt8 = 0x06
    public static let classCode: UInt8 = 0x08 // revision in the low byte
    public static let headerType: UInt8 = 0x0e
    public static let firstBAR: UInt8 = 0x10
    public static let barCount = 6
    public static let secondaryBus: UInt8 = 0x19 // type-1 (bridge) header
    public static let expansionROM: UInt8 = 0x30
    public static let capabilityPointer: UInt8 = 0x34
    public static let interruptLine: UInt8 = 0x3c
    public static let interruptPin: UInt8 = 0x3d
    /// Where the standard header ends and device-specific space (capabilities, vendor registers) begins.
    public static let headerEnd: UInt8 = 0x40

    public static let commandIO: UInt16 = 1 << 0
    public static let commandMemory: UInt16 = 1 << 1
    public static let commandBusMaster: UInt16 = 1 << 2
    public static let commandINTxDisable: UInt16 = 1 << 10
    public static let statusCapabilities: UInt16 = 1 << 4
    public static let multiFunction: UInt8 = 0x80

    public static let capabilityMSI: UInt8 = 0x05
    public static let capabilityMSIX: UInt8 = 0x11
    /// MSI message control bits: enable, multiple message enable (bits 4..6), 64-bit address capable.
    public static let msiEnable: UInt16 = 1 << 0
    public static let msiMultipleEnable: UInt16 = 0x7 << 4
    public static let msi64Bit: UInt16 = 1 << 7
}
