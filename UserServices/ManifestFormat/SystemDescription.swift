/// The whole system the root task builds: what the manifest compiler produces and the root task decodes.
/// Invariants (checked by `ManifestDecoder` and established by the manifest compiler):
/// - `components` are in start order: every dependency and every service provider of a component (and of the
///   VMs its VMM runs) comes before it;
/// - names are unique among components and among VMs; service names are unique within a component;
/// - no two components share an I/O port, an MMIO page or an interrupt;
/// - the memory of all components and VMs fits in `machineMemory`;
/// - a VM has at most one of `disk` and `diskService`; a `diskService` names a route of kind "block" in its VMM's
///   `uses`, and no two VMs of one VMM name the same one.
public struct SystemDescription: Equatable, Sendable {
    public static let pageSize: UInt64 = 4096

    /// Memory the components and VMs may use altogether, in bytes.
    public var machineMemory: UInt64
    /// Number of interrupt lines; interrupts are `0 ..< interruptCount`.
    public var interruptCount: UInt64
    public var components: [ComponentDescription]
    public var vms: [VirtualMachineDescription]

    public init(machineMemory: UInt64, interruptCount: UInt64, components: [ComponentDescription],
                vms: [VirtualMachineDescription]) {
        self.machineMemory = machineMemory
        self.interruptCount = interruptCount
        self.components = components
        self.vms = vms
    }

    /// The index of the component called `name`.
    public func componentIndex(named name: ManifestString) -> Int? {
        for (i, c) in components.enumerated() where c.name == name { return i }
        return nil
    }

    /// The VMs the component at `index` runs.
    public func vms(runBy index: Int) -> [VirtualMachineDescription] { vms.filter { $0.vmm == index } }
}

extension SystemDescription {
    /// Limits both the manifest compiler and the decoder enforce.
    public static let priorities: ClosedRange<UInt64> = 1...255
    public static let budgets: ClosedRange<UInt64> = 1...1000
    public static let vcpus: ClosedRange<UInt64> = 1...64
    public static let maxInterruptCount: UInt64 = 256
}
