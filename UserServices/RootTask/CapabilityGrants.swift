import KernelABI
import ManifestFormat
import UserRuntime

/// One delegation the root task makes into a component: `source` (a range of the root PD's own capabilities, which
/// also says the kind and the permissions kept) lands at `destinationBase` in the component.
public struct Delegation: Equatable, Hashable, Sendable {
    public var source: CapabilityRange
    public var destinationBase: UInt64
    public init(source: CapabilityRange, destinationBase: UInt64) {
        self.source = source
        self.destinationBase = destinationBase
    }
}

/// The device capabilities a component's manifest entry grants, and nothing else: its I/O port ranges (split into
/// naturally aligned CRDs), its MMIO pages (from the root's physical window, mapped at the same offset in
/// `mmioWindow`), and its interrupt semaphores (with the `smDown` right, at `ComponentSelectors.firstInterrupt`...;
/// a message interrupt's also with `smAssign`: the driver assigns it and receives the message for its device).
public enum CapabilityGrants {
    /// Components see MMIO range `base` at `mmioWindow + base`.
    public static let mmioWindow: UInt64 = 0x0000_5000_0000_0000

    public static func devices(of component: ComponentDescription) -> [Delegation] {
        var result: [Delegation] = []
        for range in component.ioPorts {
            for (base, order) in alignedBlocks(first: range.first, count: range.count) {
                let crd = CapabilityRange(kind: .io, base: base, order: order, permissions: Permissions.ioAccess)
                result.append(Delegation(source: crd, destinationBase: base))
            }
        }
        for range in component.mmio {
            let firstPage = range.base / AddressLayout.pageSize
            for (page, order) in alignedBlocks(first: firstPage, count: range.size / AddressLayout.pageSize) {
                let source = CapabilityRange(kind: .memory, base: AddressLayout.physicalWindow / AddressLayout.pageSize + page,
                                             order: order, permissions: Permissions.read | Permissions.write)
                result.append(Delegation(source: source, destinationBase: mmioWindow / AddressLayout.pageSize + page))
            }
        }
        for (i, irq) in component.interrupts.enumerated() {
            // A message interrupt is assigned by its driver, which gets the message to program its device with.
            let rights = RootSelectors.isMessage(irq) ? Permissions.smDown | Permissions.smAssign : Permissions.smDown
            let crd = CapabilityRange(kind: .object, base: RootSelectors.interruptBase + irq, order: 0,
                                      permissions: rights)
            result.append(Delegation(source: crd, destinationBase: ComponentSelectors.firstInterrupt + UInt64(i)))
        }
        return result
    }

    /// Splits `first ..< first + count` into the fewest naturally aligned power-of-two blocks, in ascending order.
    public static func alignedBlocks(first: UInt64, count: UInt64) -> [(base: UInt64, order: UInt64)] {
        CapabilityRange.alignedBlocks(first: first, count: count)
    }
}
