import KernelABI

/// What makes an EC a vCPU: the guest state it runs and what its platform needs to run it. The EC's `pd` is the VM
/// PD (its nested address space and guest ports); its exits go to portals in `vmm`'s object space.
///
/// Invariants:
/// - `vmm` is the PD that created the vCPU (it holds the EC's original capability) and is alive while the vCPU is.
/// - `frames` are `platform.guestStateFrames` pool frames owned by this vCPU (charged to `vmm`), freed with it.
/// - `tag` is 0 (none yet) or the ASID the VM PD holds from `Kernel.guestTags`.
/// - `staleGroups` and `dirtyGroups` never share a bit: a group the kernel wrote is current in `state`.
/// - A group outside `staleGroups` is current in `state`; anyone reading a stale group fetches it first
///   (`Kernel.currentGuestState`), so a platform may leave what an exit handler does not ask for in its hardware.
public final class VirtualCPU {
    /// The platform writes the exit information and the state the guest left; the kernel the rest. Groups in
    /// `staleGroups` are older here than in the platform's hardware state.
    public var state = GuestState()
    /// `TransferDescriptor` groups whose current value is only in the platform's hardware state (VMCB/VMCS, register
    /// frame): the platform sets them after an exit and clears them when `Platform.fetchGuestState` copies them in.
    public var staleGroups: UInt64 = 0
    /// `TransferDescriptor` groups the kernel changed in `state` since the platform last loaded it: the platform
    /// loads these (and what it must load on every entry) and clears them. All at creation.
    public var dirtyGroups: UInt64 = TransferDescriptor.all
    /// Frames of the platform's per-vCPU hardware state (VMCB, I/O and MSR permission maps, ...).
    public let frames: [UInt64]
    /// Root of the VM PD's nested page table.
    public let nestedRoot: UInt64
    /// The tagged-TLB ID (ASID/VPID) to run with, and whether its cached translations must go first.
    public internal(set) var tag: UInt64 = 0
    public internal(set) var flushTag = true
    /// The ports the guest may use directly (the VM PD's I/O capabilities); nil: none.
    public internal(set) var ioPermissions: IOPermissionBitmap?
    /// Which version of its VM PD's ports `ioPermissions` is (`ProtectionDomain.ioBitmapChanges`; max: none yet).
    var ioPermissionsVersion = UInt64.max
    /// Unique in the kernel for each value `ioPermissions` takes (Kernel.makeID; 0 for nil), so a platform knows
    /// from one word whether the ports it installed last are still this vCPU's.
    public internal(set) var ioPermissionsStamp: UInt64 = 0
    /// Per-vCPU state of the platform, which only the platform reads and writes (e.g. "VMCB initialized").
    public var platformState: UInt64 = 0
    let vmm: ProtectionDomain
    /// An invalid reply or state to report as `failedEntry` before the next entry, and the last one reported.
    var pendingFailure: String?
    /// Written by the kernel for the failures it finds, and by the platform for what its hardware refuses.
    public var lastFailure: String?
    /// The transfer descriptor of the portal the current exit goes to.
    var transfer: UInt64 = 0
    /// The VMM's exit portals this vCPU used (slot = exit number mod 16: the exits a guest makes most).
    var exitPortals = PortalCache(size: 16)

    init(vmm: ProtectionDomain, nestedRoot: UInt64, frames: [UInt64]) {
        self.vmm = vmm
        self.nestedRoot = nestedRoot
        self.frames = frames
    }
}
