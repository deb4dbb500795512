import KernelABI

/// Page-table operations on one 4-level address space in entry format `F`, through the platform's physical
/// memory. Ranges are mapped with the largest leaves that alignment allows (2 MiB, and 1 GiB where the machine
/// has them); removing part of a large leaf first splits it into a table of smaller leaves ("demotion").
///
/// Large leaves and the memory to split them: a leaf at level `l` could later need `reservation(l)` tables to be
/// split down to 4 KiB pages (1 for 2 MiB, 1 + 512 for 1 GiB), exactly what mapping it with 4 KiB pages would have
/// cost. The caller reserves that much when the leaf is written, so a later revoke never fails for want of memory.
struct PageTableWalker<P: Platform, F: PageTableFormat> {
    let platform: P

    static func index(_ virtualAddress: UInt64, level: Int) -> UInt64 {
        (virtualAddress >> (12 + 9 * UInt64(level))) & 0x1ff
    }

    /// Pages covered by one entry at `level`.
    static func span(level: Int) -> UInt64 { 1 << (9 * UInt64(level)) }

    /// Frames a large leaf at `level` keeps reserved for its own demotion (see the type's comment).
    static func reservation(level: Int) -> UInt64 {
        switch level {
        case 1: return 1
        case 2: return 1 + 512
        default: return 0
        }
    }

    /// Maps `pages` virtual pages from `virtualPage` to consecutive physical memory from `physical`, with leaves
    /// up to `largestLevel`. `table` gives a table frame (zeroed here) or nil when none can be paid for; `reserve`
    /// reserves the demotion frames of a large leaf at a level, false when that cannot be paid for. Returns false
    /// on such a failure; what was mapped before it stays mapped (the caller unmaps the range to undo it).
    func map(root: UInt64, virtualPage: UInt64, pages: UInt64, physical: UInt64, permissions: UInt64,
             largestLevel: Int, table: () -> UInt64?, reserve: (Int) -> Bool) -> Bool {
        map(table: root, level: 3, first: virtualPage, end: virtualPage + pages, physicalOfFirst: physical,
            permissions: permissions, largestLevel: largestLevel, newTable: table, reserve: reserve)
    }

    private func map(table: UInt64, level: Int, first: UInt64, end: UInt64, physicalOfFirst: UInt64,
                     permissions: UInt64, largestLevel: Int, newTable: () -> UInt64?,
                     reserve: (Int) -> Bool) -> Bool {
        let span = Self.span(level: level)
        var page = first
        while page < end {
            let slotBase = page & ~(span - 1)
            let slotEnd = min(end, slotBase + span)
            let slot = table + Self.index(page << AddressLayout.pageShift, level: level) * 8
            let entry = platform.readPhysical(slot)
            let physical = physicalOfFirst + (page - first) << AddressLayout.pageShift
            let wholeSlot = page == slotBase && slotEnd == slotBase + span
            if level == 0 {
                platform.writePhysical(slot, F.leaf(physical, permissions: permissions, level: 0))
            } else if wholeSlot, level <= largestLevel, !F.isPresent(entry),
                      physical & (span << AddressLayout.pageShift - 1) == 0 {
                guard reserve(level) else { return false }
                platform.writePhysical(slot, F.leaf(physical, permissions: permissions, level: level))
            } else {
                precondition(!F.isPresent(entry) || !F.isLeaf(entry, level: level), "kernel bug: mapping over a leaf")
                var next = F.address(entry)
                if !F.isPresent(entry) {
                    guard let frame = newTable() else { return false }
                    platform.zeroPage(frame)
                    platform.writePhysical(slot, F.table(frame))
                    next = frame
                }
                guard map(table: next, level: level - 1, first: page, end: slotEnd, physicalOfFirst: physical,
                          permissions: permissions, largestLevel: largestLevel, newTable: newTable,
                          reserve: reserve) else { return false }
            }
            page = slotEnd
        }
        return true
    }

    /// Removes every mapping of the `pages` virtual pages from `virtualPage`, splitting large leaves that reach
    /// outside the range. `demotionFrame` gives one frame out of the reservation of the leaf being split (it
    /// becomes a table of the space); `release` takes back the whole reservation of a removed large leaf at a
    /// level. Returns how many leaves were removed or split (0: nothing was mapped there).
    @discardableResult
    func unmap(root: UInt64, virtualPage: UInt64, pages: UInt64, demotionFrame: () -> UInt64,
               release: (Int) -> Void) -> UInt64 {
        unmap(table: root, level: 3, first: virtualPage, end: virtualPage + pages, demotionFrame: demotionFrame,
              release: release)
    }

    private func unmap(table: UInt64, level: Int, first: UInt64, end: UInt64, demotionFrame: () -> UInt64,
                       release: (Int) -> Void) -> UInt64 {
        let span = Self.span(level: level)
        var changed: UInt64 = 0
        var page = first
        while page < end {
            let slotBase = page & ~(span - 1)
            let slotEnd = min(end, slotBase + span)
            defer { page = slotEnd }
            let slot = table + Self.index(page << AddressLayout.pageShift, level: level) * 8
            var entry = platform.readPhysical(slot)
            guard F.isPresent(entry) else { continue }
            let wholeSlot = page == slotBase && slotEnd == slotBase + span
            if F.isLeaf(entry, level: level) {
                if wholeSlot {
                    platform.writePhysical(slot, 0)
                    release(level)
                    changed += 1
                    continue
                }
                entry = demote(entry, at: slot, level: level, frame: demotionFrame())
                changed += 1
            }
            changed += unmap(table: F.address(entry), level: level - 1, first: page, end: slotEnd,
                             demotionFrame: demotionFrame, release: release)
        }
        return changed
    }

    /// Replaces the large leaf `entry` at `slot` with a table of 512 leaves one level down that map the same.
    /// The table frame comes out of the leaf's reservation; the rest of it stays reserved for the new leaves.
    private func demote(_ entry: UInt64, at slot: UInt64, level: Int, frame: UInt64) -> UInt64 {
        let base = F.address(entry)
        let permissions = F.permissions(ofLeaf: entry)
        let step = Self.span(level: level - 1) << AddressLayout.pageShift
        for i in UInt64(0)..<512 {
            platform.writePhysical(frame + i * 8, F.leaf(base + i * step, permissions: permissions, level: level - 1))
        }
        let table = F.table(frame)
        platform.writePhysical(slot, table)
        return table
    }

    /// The user half (PML4 slots 1..255) in one pass, for the invariant checker: the frames of every table below
    /// the PML4, and every present leaf, in ascending virtual order.
    func userMappings(root: UInt64, slots: Range<UInt64> = 1..<256) -> UserMappings {
        var result = UserMappings()
        collect(table: root, level: 3, slots: slots.lowerBound, slots.upperBound, virtualPageBase: 0, into: &result)
        return result
    }

    private func collect(table: UInt64, level: Int, slots first: UInt64, _ end: UInt64, virtualPageBase: UInt64,
                         into result: inout UserMappings) {
        var slot = first
        while slot < end {
            defer { slot += 1 }
            let entry = platform.readPhysical(table + slot * 8)
            guard F.isPresent(entry) else { continue }
            let page = virtualPageBase | slot << (9 * UInt64(level))
            if F.isLeaf(entry, level: level) {
                result.leaves.append(UserMappings.Leaf(virtualPage: page, level: level, entry: entry))
            } else {
                let next = F.address(entry)
                result.tables.append(next)
                collect(table: next, level: level - 1, slots: 0, 512, virtualPageBase: page, into: &result)
            }
        }
    }
}

/// What the user half of an address space holds (see `PageTableWalker.userMappings`).
struct UserMappings {
    struct Leaf {
        let virtualPage: UInt64
        /// 0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB.
        let level: Int
        let entry: UInt64
    }
    /// Frames of the PDPTs, page directories and page tables (not the PML4).
    var tables: [UInt64] = []
    /// Every present leaf, in ascending virtual order.
    var leaves: [Leaf] = []
}
