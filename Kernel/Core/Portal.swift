/// A portal: an IPC entry into the PD of its handler EC. A call through it starts `ec` at `entry` with `id` in the
/// UTCB's portal-id word.
///
/// Invariants: `ec` is a local EC (it never has an SC of its own).
final class Portal {
    let id: UInt64
    let ec: ExecutionContext
    let entry: UInt64
    var portalID: UInt64
    /// For vCPU exits through this portal: the state groups transferred (`TransferDescriptor`).
    let mtd: UInt64
    var isAlive = true
    let chargedTo: ProtectionDomain?

    init(id: UInt64, ec: ExecutionContext, entry: UInt64, portalID: UInt64, mtd: UInt64 = 0,
         chargedTo: ProtectionDomain?) {
        self.id = id
        self.mtd = mtd
        self.ec = ec
        self.entry = entry
        self.portalID = portalID
        self.chargedTo = chargedTo
    }
}
