/// Where a PC's device registers can be: the physical addresses above everything in memory below 4 GiB up to 4 GiB
/// (the PCI hole: ECAM, 32-bit BARs, firmware flash, chipset registers) and above all memory up to the CPU's
/// physical address limit (64-bit BARs), minus what the kernel drives itself (interrupt controllers, the MSI
/// window, IOMMU registers). The root task may claim pages of it (`claim_mmio`); RAM never is in it, whatever the
/// firmware reserved, because everything the loader reported as memory, the kernel's image and heap included, ends
/// below where it starts.
public enum DeviceAddressSpace {
    public static let fourGiB: UInt64 = 1 << 32

    /// `memory`: every range known to hold memory (free RAM, the kernel image and heap, the bundle, the loader's
    /// hand-over); `kept`: ranges the kernel keeps for itself; `limit`: one past the highest physical address.
    /// The result is page aligned, sorted and disjoint.
    public static func ranges(memory: [PhysicalRange], kept: [PhysicalRange], limit: UInt64) -> [PhysicalRange] {
        let page: UInt64 = 4096
        func up(_ a: UInt64) -> UInt64 { a > UInt64.max - (page - 1) ? UInt64.max & ~(page - 1) : (a + page - 1) & ~(page - 1) }
        var lowTop: UInt64 = 0, highTop = fourGiB
        for r in memory where r.size > 0 {
            let end = r.base > UInt64.max - r.size ? UInt64.max : r.end
            if r.base < fourGiB { lowTop = max(lowTop, min(end, fourGiB)) }
            highTop = max(highTop, end)
        }
        var candidates: [PhysicalRange] = []
        let lowStart = up(lowTop), highStart = up(highTop), top = min(limit, UInt64.max) & ~(page - 1)
        if lowStart < min(fourGiB, top) { candidates.append(PhysicalRange(base: lowStart, size: min(fourGiB, top) - lowStart)) }
        if highStart < top { candidates.append(PhysicalRange(base: highStart, size: top - highStart)) }
        for k in kept where k.size > 0 {
            let base = k.base & ~(page - 1), end = up(k.base > UInt64.max - k.size ? UInt64.max : k.end)
            candidates = candidates.flatMap { c -> [PhysicalRange] in
                guard base < c.end, c.base < end else { return [c] }
                var pieces: [PhysicalRange] = []
                if c.base < base { pieces.append(PhysicalRange(base: c.base, size: base - c.base)) }
                if end < c.end { pieces.append(PhysicalRange(base: end, size: c.end - end)) }
                return pieces
            }
        }
        return candidates
    }
}
