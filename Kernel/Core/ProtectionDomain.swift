import KernelABI

/// A protection domain: a capability space plus an address space (a PML4 whose slot 0 is the kernel's map).
///
/// Invariants:
/// - `quotaUsed <= quotaLimit` (quota never goes negative); everything charged to this PD is in `quotaUsed`.
/// - `tableFrames` are the pool frames of this PD's page tables (the PML4 first); they are charged to it.
/// - `reservedFrames` is the sum of the demotion reservations of its large leaves (PageTable.swift); they are
///   charged to it and reserved in the kernel pool.
/// - The page tables map exactly the memory capabilities in `space.memory` (with their permissions, with leaves
///   of any size) plus the UTCBs of live ECs whose home is this PD; nothing else in the user half.
/// - `ioBitmap` allows exactly the ports in `space.io`.
/// - Once `isAlive` is false its spaces are empty and its frames are back in the pool.
/// - A VM PD (`isVM`): its memory keys are guest page numbers from 0 and its page table is the nested one (no kernel
///   slot, no UTCBs); its only ECs are vCPUs; `guestTag` is 0 or the tag it holds in `Kernel.guestTags`.
/// - `dmaRoot` is nil until a device is bound to this PD (`assign_dev`, DeviceAssignment.swift); from then on it is
///   the root of its DMA table (`VTdEntry` format, device addresses = this PD's memory keys), which maps exactly the
///   memory capabilities in `space.memory` (with their rights, read/write only; no UTCBs, no kernel slot).
///   `dmaTableFrames` (root first) and `dmaReservedFrames` are that table's frames and demotion reservations,
///   charged to this PD like `tableFrames` and `reservedFrames`.
final class ProtectionDomain {
    let id: UInt64
    var space = CapabilitySpace()
    /// Physical address of the PML4.
    let pageTableRoot: UInt64
    var tableFrames: [UInt64]
    var reservedFrames: UInt64 = 0
    /// The DMA table of the devices bound to this PD (see the invariants), its frames and reservations.
    var dmaRoot: UInt64?
    var dmaTableFrames: [UInt64] = []
    var dmaReservedFrames: UInt64 = 0
    let isVM: Bool
    var guestTag: UInt64 = 0
    var ioBitmap = IOPermissionBitmap() { didSet { ioBitmapChanges &+= 1 } }
    /// Counts changes of `ioBitmap`, so a vCPU entering again can tell it still holds the current ports.
    private(set) var ioBitmapChanges: UInt64 = 0
    var quotaLimit: UInt64
    var quotaUsed: UInt64 = 0
    /// The PD that paid `quotaLimit` for this one (nil for the root PD).
    let creator: ProtectionDomain?
    /// Own rights (`Permissions.pdCreate`, `Permissions.pdConsole`), fixed at creation.
    let rights: UInt64
    /// UTCB virtual page numbers of live ECs living here.
    var utcbPages: [UInt64: ExecutionContext] = [:]
    var isAlive = true
    /// For the invariant checker: what changed since it last looked.
    var changes = ChangeRecord()

    init(id: UInt64, pageTableRoot: UInt64, quotaLimit: UInt64, creator: ProtectionDomain?, rights: UInt64,
         isVM: Bool = false) {
        self.id = id
        self.isVM = isVM
        self.pageTableRoot = pageTableRoot
        self.tableFrames = [pageTableRoot]
        self.quotaLimit = quotaLimit
        self.creator = creator
        self.rights = rights
    }

    /// Charges `pages` of kernel memory; false (nothing charged) when the quota cannot pay.
    func charge(_ pages: UInt64) -> Bool {
        guard pages <= quotaLimit - quotaUsed else { return false }
        quotaUsed += pages
        return true
    }

    func refund(_ pages: UInt64) {
        precondition(pages <= quotaUsed, "kernel bug: refund exceeds the charged quota")
        quotaUsed -= pages
    }

    /// Records that entry `key` of space `kind` changed: its slot, its capability's parent or children, or what it
    /// grants. Every such change must be noted, on the holder of each capability involved, for the invariant checker.
    func noteChange(_ kind: CapabilityRange.Kind, key: UInt64) { changes.note(kind, key: key) }

    var name: String { isVM ? "vm#\(id)" : "pd#\(id)" }
}
