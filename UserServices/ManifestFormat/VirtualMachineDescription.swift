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
    /// Or the disk is served by a `block` service: the name of a route in the VMM component's `uses` whose kind is
    /// `diskServiceKind`. At most one of `disk` and `diskService`; no two VMs of one VMM name the same route (a
    /// block service has one client: the buffer and the tags are the caller's).
    public var diskService: ManifestString?

    /// The protocol a disk service must speak: Drivers/BlockService's.
    public static let diskServiceKind: ManifestString = "block"

    public init(name: ManifestString, vmm: Int, image: GuestImage, memory: UInt64, vcpus: UInt64, nested: Bool,
                services: [ServiceRoute] = [], disk: ManifestString? = nil, diskService: ManifestString? = nil) {
        self.name = name
        self.vmm = vmm
        self.image = image
        self.memory = memory
        self.vcpus = vcpus
        self.nested = nested
        self.services = services
        self.disk = disk
        self.diskService = diskService
    }
}
