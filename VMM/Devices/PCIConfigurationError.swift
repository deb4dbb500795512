/// A mistake in how the VMM builds its PCI devices (never something a guest can cause): which BAR or slot, and why.
public enum PCIConfigurationError: Error, Equatable {
    case barIndexOutOfRange(Int)
    case barAlreadyDefined(Int)
    case capabilitySpaceFull(needed: Int, free: Int)
    case capabilityMaskLengthMismatch(payload: Int, mask: Int)
    case slotOutOfRange(Int)
    case slotOccupied(Int)
    case resourceWindowTooSmall(bar: Int, slot: Int, size: UInt64)

    public var message: String {
        switch self {
        case .barIndexOutOfRange(let index):
            return "BAR \(index) does not exist (a type 0 header has BARs 0...5; a 64-bit BAR needs the next one too)"
        case .barAlreadyDefined(let index):
            return "BAR \(index) is already defined (or is the upper half of a 64-bit BAR)"
        case .capabilitySpaceFull(let needed, let free):
            return "capability of \(needed) bytes does not fit in the \(free) bytes left of the configuration space"
        case .capabilityMaskLengthMismatch(let payload, let mask):
            return "capability writable mask has \(mask) bytes for a payload of \(payload)"
        case .slotOutOfRange(let slot):
            return "PCI slot \(slot) is out of range (devices 1...31 on bus 0; 0 is the host bridge)"
        case .slotOccupied(let slot):
            return "PCI slot \(slot) already holds a function"
        case .resourceWindowTooSmall(let bar, let slot, let size):
            return "no room for BAR \(bar) of slot \(slot) (size 0x\(String(size, radix: 16))) in the resource window"
        }
    }
}
