import BootFormat
import KernelABI

/// Device memory (MMIO) on demand, NOVA's way: the root PD may take any page of the platform's device memory
/// (`BootConfiguration.deviceMemory`) as an original capability at its place in the physical window, mapped
/// uncached (`Permissions.device`). Taken at boot, the whole device address space (the PCI hole and everything
/// above RAM to the physical limit) would cost its large leaves' split reservations: a 1 GiB leaf keeps 513
/// frames, more than a small machine's pool. Taken on demand, the root pays only for what it hands out (an ECAM
/// window, a device's BARs), from its own quota.
///
/// Invariant: a device page is held by at most one original (its only slot is the root's window at
/// `physicalWindow + physical`), so giving it back (`revoke` with `self`) and taking it again cannot make two.
extension Kernel {
    /// claim_mmio(first_page, order): root only; physical pages `first_page ..< first_page + 2^order` (aligned to
    /// their size) become the root's, read/write/device, at `physicalWindow + first_page * 4096`.
    func claimDeviceMemory(by caller: ExecutionContext, firstPage: UInt64, order: UInt64) throws(Failure) -> Completion {
        guard caller.pd === rootPD, let root = rootPD else { throw .insufficientRights }
        guard order < 32, firstPage & ((1 << order) - 1) == 0,
              firstPage < AddressLayout.physicalLimit >> AddressLayout.pageShift else { throw .badRange }
        let base = firstPage << AddressLayout.pageShift, size = UInt64(1) << (order + AddressLayout.pageShift)
        guard configuration.deviceMemory.contains(where: { $0.base <= base && base < $0.end && size <= $0.end - base })
        else { throw .badRange }
        let key = (AddressLayout.physicalWindow >> AddressLayout.pageShift) + firstPage
        guard isFree(root, .memory, base: key, count: 1 << order) else { throw .badSelector }
        let cap = Capability(kind: .memory, holder: root, key: key, order: order, resource: base, object: nil,
                             permissions: Permissions.read | Permissions.write | Permissions.device, parent: nil)
        guard map(cap) else { throw .outOfMemory }
        root.space.insert(cap)
        root.noteChange(.memory, key: key)
        return .success
    }
}
