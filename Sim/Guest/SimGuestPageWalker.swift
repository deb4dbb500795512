/// Guest-linear to guest-physical through the guest's own page tables (no paging, 32-bit, PAE, 4-level), as the
/// CPU walks them for the accesses the guest CPU makes itself. Accessed/dirty bits are not set.
struct SimGuestPageWalker {
    let state: SimGuestState
    /// Reads an 8-byte (or, for 32-bit tables, 4-byte) entry at a guest-physical address.
    let readEntry: (_ guestPhysical: UInt64, _ size: Int) throws(SimGuestFault) -> UInt64

    func translate(_ linear: UInt64, access: SimGuestAccess, user: Bool) throws(SimGuestFault) -> UInt64 {
        let cr0 = state.cr0, cr4 = state.cr4
        guard cr0 & 0x8000_0000 != 0 else { return state.longModeActive ? linear : linear & 0xffff_ffff }
        let write = access == .write, fetch = access == .execute
        let nxe = state.efer & 0x800 != 0
        func fault(present: Bool, reserved: Bool = false) -> SimGuestFault {
            var code: UInt32 = present ? 1 : 0
            if write { code |= 2 }
            if user { code |= 4 }
            if reserved { code |= 9 }
            if fetch && nxe { code |= 0x10 }
            return .pageFault(linear, code)
        }
        var writable = true, userOK = true, executable = true
        func account(_ entry: UInt64) {
            if entry & 2 == 0 { writable = false }
            if entry & 4 == 0 { userOK = false }
            if nxe && entry & (1 << 63) != 0 { executable = false }
        }
        func finish(_ physical: UInt64) throws(SimGuestFault) -> UInt64 {
            if user && !userOK { throw fault(present: true) }
            if write && !writable && (user || cr0 & 0x10000 != 0) { throw fault(present: true) }
            if fetch && !executable { throw fault(present: true) }
            return physical
        }
        let addressMask: UInt64 = 0x000f_ffff_ffff_f000
        if cr4 & 0x20 == 0 { // 32-bit paging, 4 MiB pages with PSE
            let linear32 = linear & 0xffff_ffff
            let pde = try readEntry((state.cr3 & 0xffff_f000) + (linear32 >> 22) * 4, 4)
            guard pde & 1 != 0 else { throw fault(present: false) }
            account(pde)
            if pde & 0x80 != 0 && cr4 & 0x10 != 0 {
                return try finish((pde & 0xffc0_0000) | (linear32 & 0x3f_ffff))
            }
            let pte = try readEntry((pde & 0xffff_f000) + (linear32 >> 12 & 0x3ff) * 4, 4)
            guard pte & 1 != 0 else { throw fault(present: false) }
            account(pte)
            return try finish((pte & 0xffff_f000) | (linear32 & 0xfff))
        }
        var table: UInt64
        var shifts: [UInt64]
        if state.longModeActive {
            // Non-canonical addresses are #GP (the caller raises #SS for stack accesses where it matters).
            let top = linear >> 47
            guard top == 0 || top == 0x1ffff else { throw .gp() }
            table = state.cr3 & addressMask
            shifts = [39, 30, 21, 12]
        } else {
            let pdpte = try readEntry((state.cr3 & 0xffff_ffe0) + (linear >> 30 & 3) * 8, 8)
            guard pdpte & 1 != 0 else { throw fault(present: false) }
            table = pdpte & addressMask
            shifts = [21, 12]
        }
        for shift in shifts {
            let entry = try readEntry(table + (linear >> shift & 0x1ff) * 8, 8)
            guard entry & 1 != 0 else { throw fault(present: false) }
            account(entry)
            if shift != 12 && shift != 39 && entry & 0x80 != 0 {
                let size: UInt64 = 1 << shift
                return try finish((entry & addressMask & ~(size - 1)) | (linear & (size - 1)))
            }
            table = entry & addressMask
            if shift == 12 { return try finish(table | (linear & 0xfff)) }
        }
        return try finish(table | (linear & 0xfff))
    }
}
