/// What a VM boots: a Linux-style kernel (with optional initrd and command line) or a self-checking test image.
/// Every name is a module in the boot bundle.
public enum GuestImage: Equatable, Sendable {
    case kernel(kernel: ManifestString, initrd: ManifestString?, commandLine: ManifestString)
    case testImage(ManifestString)
}

/// One virtual machine, run by a VMM component.
public struct VirtualMachineDescription: Equatable, Sendable {
    public var name: ManifestString
    /// Index into `SystemDescription.components` of the VMM that runs this VM (its `isVMM` is set).
    public var vmm: Int
    public var image: GuestImage
    /// Guest memory in bytes (a multiple of the page size).
    public var memory: UInt64
    public var vcpus: UInt64
    /// The VMM offers (emulated) hardware virtualization to the guest.
    public var nested: Bool
    /// Services attached to the VM (the VMM exposes them to the guest as devices).
    public var services: [ServiceRoute]
    /// The bundle module a kernel VM's virtio-blk disk serves (nil: no disk; test images have none).
    public var disk: ManifestString?

    public init(name: ManifestString, vmm: Int, image: GuestImage, memory: UInt64, vcpus: UInt64, nested: Bool,
                services: [ServiceRoute] = [], disk: ManifestString? = nil) {
        self.name = name
        self.vmm = vmm
        self.image = image
        self.memory = memory
        self.vcpus = vcpus
        self.nested = nested
        self.services = services
        self.disk = disk
    }
}
