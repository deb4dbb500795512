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

    /// `count` held heap pages (of the `pages` pages from `virtual`) that are physically contiguous, in physical
    /// order: each one's virtual address, and the first one's physical address. A restarted driver's heap is made
    /// of pages others freed, in no particular order, so the run is looked for by physical address.
    static func contiguousRun<P: UserPlatform>(_ platform: P, virtual: UInt64, pages: UInt64,
                                               count: UInt64) -> (virtual: [UInt64], physical: UInt64)? {
        guard count > 0 else { return nil }
        let held = (0..<pages).compactMap { k -> (physical: UInt64, virtual: UInt64)? in
            let v = virtual + k * AddressLayout.pageSize
            return physical(platform, virtual: v).map { ($0, v) }
        }.sorted { $0.physical < $1.physical }
        var start = 0
        for i in held.indices {
            if i > start && held[i].physical != held[i - 1].physical + AddressLayout.pageSize { start = i }
            if i - start + 1 == Int(count) { return (held[start...i].map { $0.virtual }, held[start].physical) }
        }
        return nil
    }
}
