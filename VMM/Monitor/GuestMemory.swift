import KernelABI
import UserRuntime

/// A VM's RAM as the VMM sees it: guest-physical `0 ..< size` at `base` in the VMM's address space (the root task
/// delegated it there; the same ranges are delegated on into the VM PD). Every access is bounds-checked: a guest
/// address outside its RAM is never turned into a VMM address.
struct GuestMemory<P: UserPlatform> {
    let platform: P
    let base: UInt64
    let size: UInt64

    func contains(_ physical: UInt64, count: UInt64 = 1) -> Bool { physical < size && count <= size - physical }

    func load8(_ physical: UInt64) -> UInt8? { contains(physical) ? platform.load8(base + physical) : nil }
    func store8(_ physical: UInt64, _ value: UInt8) -> Bool {
        guard contains(physical) else { return false }
        platform.store8(base + physical, value)
        return true
    }
    func load64(_ physical: UInt64) -> UInt64? {
        guard contains(physical, count: 8) else { return nil }
        if physical & 7 == 0 { return platform.load64(base + physical) }
        var value: UInt64 = 0
        for i in 0..<UInt64(8) { value |= UInt64(platform.load8(base + physical + i)) << (8 * i) }
        return value
    }
    func store64(_ physical: UInt64, _ value: UInt64) -> Bool {
        guard contains(physical, count: 8) else { return false }
        if physical & 7 == 0 {
            platform.store64(base + physical, value)
        } else {
            for i in 0..<UInt64(8) { platform.store8(base + physical + i, UInt8(truncatingIfNeeded: value >> (8 * i))) }
        }
        return true
    }
}
