import KernelABI
import UserRuntime

/// The physical address behind a virtual page the driver holds (`lookup`: the range covering the page and the
/// physical page number of its first page), for the addresses the device DMAs to. Nil when the page is not held.
enum PhysicalPages {
    static func physical<P: UserPlatform>(_ platform: P, virtual: UInt64) -> UInt64? {
        let page = virtual >> AddressLayout.pageShift
        let crd = CapabilityRange(kind: .memory, base: page, permissions: 0)
        let r = platform.hypercall(Hypercall.lookup.rawValue, crd.word, 0, 0, 0, 0, 0)
        guard r.rax == Status.success.rawValue, let found = CapabilityRange(word: r.rdi), found.kind == .memory,
              page >= found.base else { return nil }
        return (r.rsi + (page - found.base)) << AddressLayout.pageShift | (virtual & (AddressLayout.pageSize - 1))
    }

    /// Whether `count` pages from `virtual` are held and physically contiguous (a legacy virtqueue must be).
    static func contiguous<P: UserPlatform>(_ platform: P, virtual: UInt64, count: UInt64) -> UInt64? {
        guard let first = physical(platform, virtual: virtual) else { return nil }
        for k in 1..<max(count, 1) {
            guard physical(platform, virtual: virtual + k * AddressLayout.pageSize) == first + k * AddressLayout.pageSize
            else { return nil }
        }
        return first
    }
}
