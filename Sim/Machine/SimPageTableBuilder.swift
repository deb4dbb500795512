/// Builds x86-64 page tables in simulated RAM, for tests and for setting up user address spaces without a kernel.
/// Tables come from a bump allocator over `tablePool`.
public final class SimPageTableBuilder {
    public let memory: SimPhysicalMemory
    public let root: UInt64
    private var nextTable: UInt64
    private let poolEnd: UInt64

    public init(memory: SimPhysicalMemory, tablePool: Range<UInt64>) throws(SimPhysicalMemoryError) {
        self.memory = memory
        nextTable = tablePool.lowerBound
        poolEnd = tablePool.upperBound
        root = try Self.allocate(memory, &nextTable, poolEnd)
    }

    private static func allocate(_ memory: SimPhysicalMemory, _ next: inout UInt64, _ end: UInt64)
        throws(SimPhysicalMemoryError) -> UInt64 {
        guard next + 4096 <= end else { throw .outOfRange(address: next, size: end) }
        let table = next
        next += 4096
        try memory.zeroPage(table)
        return table
    }

    private func allocateTable() throws(SimPhysicalMemoryError) -> UInt64 {
        try Self.allocate(memory, &nextTable, poolEnd)
    }

    /// Maps one 4 KiB page. Intermediate entries get present+write+user so the leaf alone decides.
    public func map(_ virtual: UInt64, to physical: UInt64, writable: Bool, user: Bool, executable: Bool)
        throws(SimPhysicalMemoryError) {
        var table = root
        for level in 0..<3 {
            let slot = table + ((virtual >> UInt64(39 - 9 * level)) & 511) * 8
            var entry = try memory.read64(slot)
            if entry & 1 == 0 {
                entry = try allocateTable() | 0x7
                try memory.write64(slot, entry)
            }
            table = entry & 0x000f_ffff_ffff_f000
        }
        try memory.write64(table + ((virtual >> 12) & 511) * 8, Self.leaf(physical, writable: writable, user: user,
                                                                          executable: executable))
    }

    /// The physical address of the entry at `level` (0 = PML4) for `virtual`, when the path exists.
    public func entryAddress(_ virtual: UInt64, level: Int) throws(SimPhysicalMemoryError) -> UInt64? {
        var table = root
        for l in 0...level {
            let slot = table + ((virtual >> UInt64(39 - 9 * l)) & 511) * 8
            if l == level { return slot }
            let entry = try memory.read64(slot)
            guard entry & 1 != 0 else { return nil }
            table = entry & 0x000f_ffff_ffff_f000
        }
        return nil
    }

    public func unmap(_ virtual: UInt64) throws(SimPhysicalMemoryError) {
        if let slot = try entryAddress(virtual, level: 3) { try memory.write64(slot, 0) }
    }

    public static func leaf(_ physical: UInt64, writable: Bool, user: Bool, executable: Bool) -> UInt64 {
        var entry = (physical & 0x000f_ffff_ffff_f000) | 1
        if writable { entry |= 2 }
        if user { entry |= 4 }
        if !executable { entry |= 1 << 63 }
        return entry
    }
}
