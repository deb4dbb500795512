/// One component: a protection domain the root task creates from a binary in the boot bundle.
public struct ComponentDescription: Equatable, Sendable {
    public var name: ManifestString
    /// The bundle module holding the component's ELF image.
    public var binary: ManifestString
    /// Memory quota in bytes (a multiple of the page size).
    public var memory: UInt64
    public var priority: UInt64
    /// Scheduling budget per period, in milliseconds.
    public var budgetMilliseconds: UInt64
    public var ioPorts: [PortRange]
    public var mmio: [MMIORange]
    public var interrupts: [UInt64]
    /// PCI devices the root task finds on the bus and grants with their BARs, interrupt line and configuration
    /// space (through the PCI driver's `pci` service).
    public var pciDevices: [PCIDeviceSelector]
    public var provides: [ServiceDescription]
    public var uses: [ServiceRoute]
    /// Components (indices into `SystemDescription.components`) that must start before this one.
    public var dependsOn: [Int]
    /// The root task restarts the component when it faults (otherwise it stays dead).
    public var restartOnFault: Bool
    /// The component is a virtual machine monitor and may run VMs.
    public var isVMM: Bool

    public init(name: ManifestString, binary: ManifestString, memory: UInt64, priority: UInt64,
                budgetMilliseconds: UInt64, ioPorts: [PortRange] = [], mmio: [MMIORange] = [], interrupts: [UInt64] = [],
                provides: [ServiceDescription] = [], uses: [ServiceRoute] = [], dependsOn: [Int] = [],
                restartOnFault: Bool = false, isVMM: Bool = false,
                pciDevices: [PCIDeviceSelector] = []) {
        self.name = name
        self.binary = binary
        self.memory = memory
        self.priority = priority
        self.budgetMilliseconds = budgetMilliseconds
        self.ioPorts = ioPorts
        self.mmio = mmio
        self.interrupts = interrupts
        self.provides = provides
        self.uses = uses
        self.dependsOn = dependsOn
        self.restartOnFault = restartOnFault
        self.isVMM = isVMM
        self.pciDevices = pciDevices
    }
}
