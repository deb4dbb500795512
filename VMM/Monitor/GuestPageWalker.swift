import KernelABI
import UserRuntime

/// Translates a guest-linear address to guest-physical through the guest's own page tables, as the guest's CPU
/// would, for the accesses the VMM emulates (string I/O operands today, instruction fetch for MMIO decoding next):
/// no paging, 32-bit (4 KiB / 4 MiB pages), PAE and 4-level long-mode paging (4 KiB / 2 MiB / 1 GiB pages). A
/// table outside guest RAM or a non-present entry gives nil (the VMM then reports or injects a fault).
struct GuestPageWalker<P: UserPlatform> {
    let memory: GuestMemory<P>
    let cr0: UInt64, cr3: UInt64, cr4: UInt64, efer: UInt64

    init<Q>(memory: GuestMemory<P>, state: ExitState<Q>) {
        self.memory = memory
        cr0 = state.word(GuestStateLayout.cr0)
        cr3 = state.word(GuestStateLayout.cr3)
        cr4 = state.word(GuestStateLayout.cr4)
        efer = state.word(GuestStateLayout.efer)
    }

    func physical(_ linear: UInt64) -> UInt64? {
        guard cr0 & (1 << 31) != 0 else { return linear & 0xffff_ffff }
        if efer & (1 << 10) != 0 { return walk(linear, root: cr3 & 0x000f_ffff_ffff_f000, levels: 4) }
        if cr4 & (1 << 5) != 0 {
            guard let pdpte = memory.load64((cr3 & 0xffff_ffe0) + ((linear >> 30) & 3) * 8), pdpte & 1 != 0 else { return nil }
            return walk(linear, root: pdpte & 0x000f_ffff_ffff_f000, levels: 2)
        }
        // 32-bit paging: 4-byte entries, 4 MiB pages with CR4.PSE.
        let directory = cr3 & 0xffff_f000
        guard let pde = load32(directory + ((linear >> 22) & 0x3ff) * 4), pde & 1 != 0 else { return nil }
        if pde & 0x80 != 0 && cr4 & (1 << 4) != 0 { return (pde & 0xffc0_0000) | (linear & 0x3f_ffff) }
        guard let pte = load32((pde & 0xffff_f000) + ((linear >> 12) & 0x3ff) * 4), pte & 1 != 0 else { return nil }
        return (pte & 0xffff_f000) | (linear & 0xfff)
    }

    /// 64-bit entries from `root`, `levels` deep (4 long mode, 2 below a PAE PDPTE).
    private func walk(_ linear: UInt64, root: UInt64, levels: Int) -> UInt64? {
        var table = root
        for level in stride(from: levels - 1, through: 0, by: -1) {
            let shift = UInt64(12 + 9 * level)
            guard let entry = memory.load64(table + ((linear >> shift) & 0x1ff) * 8), entry & 1 != 0 else { return nil }
            let address = entry & 0x000f_ffff_ffff_f000
            if level == 0 || (level <= 2 && entry & 0x80 != 0) {
                let mask: UInt64 = (1 << shift) - 1
                return (address & ~mask) | (linear & mask)
            }
            table = address
        }
        return nil
    }

    private func load32(_ physical: UInt64) -> UInt64? { memory.load64(physical).map { $0 & 0xffff_ffff } }
}
