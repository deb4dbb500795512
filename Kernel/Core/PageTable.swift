import KernelABI

/// x86-64 4-level page-table entries and the walks the kernel does on them, through the platform's physical memory.
enum PageTableEntry {
    static let present: UInt64 = 1 << 0
    static let writable: UInt64 = 1 << 1
    static let user: UInt64 = 1 << 2
    static let largePage: UInt64 = 1 << 7
    static let noExecute: UInt64 = 1 << 63
    static let addressMask: UInt64 = 0x000f_ffff_ffff_f000

    /// Flags for a user leaf mapping with memory-capability `permissions` (read is implied on x86).
    static func leafFlags(_ permissions: UInt64) -> UInt64 {
        var flags = present | user
        if permissions & Permissions.write != 0 { flags |= writable }
        if permissions & Permissions.execute == 0 { flags |= noExecute }
        return flags
    }

    /// Intermediate user tables allow everything; the leaf decides.
    static let userTable: UInt64 = present | writable | user
    /// The kernel's own tables and 2 MiB identity pages: supervisor only.
    static let kernelTable: UInt64 = present | writable
}

/// Page-table operations on one address space. Intermediate tables come from `allocate` (which charges them).
struct PageTableWalker<P: Platform> {
    let platform: P

    static func index(_ virtualAddress: UInt64, level: Int) -> UInt64 {
        (virtualAddress >> (12 + 9 * UInt64(level))) & 0x1ff
    }

    /// Maps one 4 KiB page. Returns false when a needed table could not be allocated (nothing is half-mapped:
    /// tables allocated before the failure stay, empty, in the address space).
    func map(root: UInt64, virtualAddress: UInt64, physical: UInt64, flags: UInt64, allocate: () -> UInt64?) -> Bool {
        var table = root
        for level in stride(from: 3, to: 0, by: -1) {
            let slot = table + Self.index(virtualAddress, level: level) * 8
            let entry = platform.readPhysical(slot)
            if entry & PageTableEntry.present != 0 {
                table = entry & PageTableEntry.addressMask
            } else {
                guard let frame = allocate() else { return false }
                platform.zeroPage(frame)
                platform.writePhysical(slot, frame | PageTableEntry.userTable)
                table = frame
            }
        }
        platform.writePhysical(table + Self.index(virtualAddress, level: 0) * 8, physical | flags)
        return true
    }

    /// Removes one 4 KiB mapping (if any). Returns whether something was mapped.
    @discardableResult
    func unmap(root: UInt64, virtualAddress: UInt64) -> Bool {
        guard let slot = leafSlot(root: root, virtualAddress: virtualAddress) else { return false }
        let had = platform.readPhysical(slot) & PageTableEntry.present != 0
        platform.writePhysical(slot, 0)
        return had
    }

    /// The leaf entry for a user page, or nil when a table on the way is missing.
    func leafEntry(root: UInt64, virtualAddress: UInt64) -> UInt64? {
        guard let slot = leafSlot(root: root, virtualAddress: virtualAddress) else { return nil }
        let entry = platform.readPhysical(slot)
        return entry & PageTableEntry.present != 0 ? entry : nil
    }

    private func leafSlot(root: UInt64, virtualAddress: UInt64) -> UInt64? {
        var table = root
        for level in stride(from: 3, to: 0, by: -1) {
            let entry = platform.readPhysical(table + Self.index(virtualAddress, level: level) * 8)
            guard entry & PageTableEntry.present != 0, entry & PageTableEntry.largePage == 0 else { return nil }
            table = entry & PageTableEntry.addressMask
        }
        return table + Self.index(virtualAddress, level: 0) * 8
    }

    /// The user half (PML4 slots 1..255) in one pass, for the invariant checker: the frames of every table below
    /// the PML4, and every present 4 KiB leaf by virtual page number.
    func userMappings(root: UInt64) -> UserMappings {
        var result = UserMappings()
        collect(table: root, level: 3, slots: 1, 256, virtualBase: 0, into: &result)
        return result
    }

    private func collect(table: UInt64, level: UInt64, slots first: UInt64, _ end: UInt64, virtualBase: UInt64,
                         into result: inout UserMappings) {
        var slot = first
        while slot < end {
            defer { slot += 1 }
            let entry = platform.readPhysical(table + slot * 8)
            guard entry & PageTableEntry.present != 0 else { continue }
            let address = virtualBase | slot << (12 + 9 * level)
            if level == 0 {
                result.leaves[address >> AddressLayout.pageShift] = entry
            } else {
                let next = entry & PageTableEntry.addressMask
                result.tables.append(next)
                collect(table: next, level: level - 1, slots: 0, 512, virtualBase: address, into: &result)
            }
        }
    }
}

/// What the user half of an address space holds (see `PageTableWalker.userMappings`).
struct UserMappings {
    /// Frames of the PDPTs, page directories and page tables (not the PML4).
    var tables: [UInt64] = []
    /// Virtual page number -> leaf entry, for every present 4 KiB page.
    var leaves: [UInt64: UInt64] = [:]
}
