/// What the PCI service lets a driver write raw into its own device's configuration space. Everything that
/// changes which resources the device decodes or where it can send memory writes goes through explicit requests
/// instead (`PCIServiceOperation.setCommand`), or not at all: BARs and the expansion ROM (a move would leave the
/// ports and pages the root task granted), the command register (decoding, bus mastering), interrupt line and
/// pin, the capability list's links, and the whole MSI and MSI-X structures (their address and enable bits
/// decide where the device writes). Allowed: cache line size and latency timer, the status register's
/// write-1-to-clear bits, and device-specific space outside those capabilities.
public enum PCIConfigWriteFilter {
    public enum Verdict: Equatable, Sendable {
        case allowed
        case misaligned
        case outOfRange
        case refused(PCIProtectedRegister)
    }

    public static func check(offset: UInt64, width: PCIAccessWidth, capabilities: [PCICapability]) -> Verdict {
        guard offset < 0x100, offset + UInt64(width.rawValue) <= 0x100 else { return .outOfRange }
        guard width.isAligned(offset) else { return .misaligned }
        for byte in offset..<(offset + UInt64(width.rawValue)) {
            if let protected = protectedRegister(byte, capabilities) { return .refused(protected) }
        }
        return .allowed
    }

    static func protectedRegister(_ byte: UInt64, _ capabilities: [PCICapability]) -> PCIProtectedRegister? {
        switch byte {
        case 0x00..<0x04: return .identity
        case 0x04..<0x06: return .command
        case 0x06..<0x08, 0x0c..<0x0e: return nil
        case 0x10..<0x28: return .bar
        case 0x30..<0x34: return .expansionROM
        case 0x3c..<0x3e: return .interrupt
        case 0x00..<0x40: return .header
        default:
            for c in capabilities where c.contains(byte) {
                switch c.id {
                case PCIConfig.capabilityMSI: return .msi
                case PCIConfig.capabilityMSIX: return .msix
                default: return .capabilityList
                }
            }
            return nil
        }
    }
}

/// A register the write filter protects, named in the refusal.
public enum PCIProtectedRegister: UInt8, Equatable, Sendable, CustomStringConvertible {
    case identity = 1, command, header, bar, expansionROM, interrupt, capabilityList, msi, msix

    public var description: String {
        switch self {
        case .identity: return "vendor and device IDs (read-only)"
        case .command: return "the command register (use the set-command request)"
        case .header: return "the standard header"
        case .bar: return "a base address register (BARs are placed by the firmware and granted by the root task)"
        case .expansionROM: return "the expansion ROM BAR"
        case .interrupt: return "the interrupt line and pin"
        case .capabilityList: return "a capability header (id and next pointer)"
        case .msi: return "the MSI capability (MSI is enabled through the kernel's vectors, not raw)"
        case .msix: return "the MSI-X capability (MSI-X is enabled through the kernel's vectors, not raw)"
        }
    }
}
