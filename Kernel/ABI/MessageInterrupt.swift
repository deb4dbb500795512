/// The message a PCI device writes to raise a message-signalled interrupt (MSI, or one MSI-X table entry): the
/// kernel chooses it when the interrupt is assigned (`assign_int` on a message interrupt's semaphore returns it in
/// rdi, rsi), the PCI driver writes it into the device's MSI capability or MSI-X table unchanged.
///
/// On x86 without interrupt remapping: `address` 0xFEE0_0000 | this CPU's APIC id << 12 (physical destination,
/// no redirection hint), `data` the vector | 1 << 14 (fixed delivery, edge, assert). A 32-bit MSI capability takes
/// the address's low half (the high half is 0).
///
/// With VT-d interrupt remapping on, the message is in remappable format instead: address 0xFEE0_0000 | handle
/// bits 0-14 << 5 | 1 << 4 (remappable) | 1 << 3 (subhandle valid) | handle bit 15 << 2, data 0 (subhandle 0). The
/// IOMMU looks the handle up in its remapping table; the entry says which vector, and which device may send it.
public struct MessageInterrupt: Equatable, Sendable {
    public var address: UInt64
    public var data: UInt64
    public init(address: UInt64, data: UInt64) {
        self.address = address
        self.data = data
    }

    /// The x86 interrupt window every MSI address lies in (the local APICs').
    public static let x86Window: ClosedRange<UInt64> = 0xfee0_0000...0xfeef_ffff

    /// The message for `vector`, edge-triggered, fixed delivery, to the CPU with local APIC id `apicID`.
    public static func x86(vector: UInt64, apicID: UInt64) -> MessageInterrupt {
        MessageInterrupt(address: x86Window.lowerBound | (apicID & 0xff) << 12, data: (vector & 0xff) | 1 << 14)
    }

    /// The remappable-format message for interrupt remapping table entry `handle`.
    public static func remappable(handle: UInt16) -> MessageInterrupt {
        let h = UInt64(handle)
        return MessageInterrupt(address: x86Window.lowerBound | (h & 0x7fff) << 5 | 1 << 4 | 1 << 3 | (h >> 15) << 2,
                                data: 0)
    }

    /// The remapping table entry a remappable-format message names (its handle plus the subhandle when that is
    /// valid), nil for a compatibility-format message or an address outside the interrupt window.
    public var remappableHandle: UInt64? {
        guard Self.x86Window.contains(address), address & 1 << 4 != 0 else { return nil }
        let handle = (address >> 5) & 0x7fff | (address >> 2 & 1) << 15
        return address & 1 << 3 != 0 ? handle &+ (data & 0xffff) : handle
    }
}
