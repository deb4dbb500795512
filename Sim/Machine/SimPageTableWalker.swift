/// What an access wants from a page.
public enum SimAccess: Equatable, Sendable { case read, write, execute }

/// The privilege of the accessing code (CPL 3 is user).
public enum SimPrivilege: Equatable, Sendable { case user, supervisor }

/// The x86 page-fault error code bits.
public enum PageFaultErrorCode {
    /// Set: the page was present (protection or reserved-bit violation); clear: not present.
    public static let present: UInt64 = 1 << 0
    public static let write: UInt64 = 1 << 1
    public static let user: UInt64 = 1 << 2
    public static let reservedBit: UInt64 = 1 << 3
    public static let instructionFetch: UInt64 = 1 << 4
}

/// Why a virtual access failed, as the CPU would report it.
public enum SimTranslationFault: Error, Equatable, CustomStringConvertible {
    /// #PF with the hardware error code and CR2.
    case pageFault(address: UInt64, errorCode: UInt64)
    /// #GP: the address is not canonical (bits 47..63 differ).
    case nonCanonical(address: UInt64)
    /// A page-table entry points beyond RAM: a kernel bug, not something user code can cause.
    case physical(SimPhysicalMemoryError)

    public var description: String {
        switch self {
        case .pageFault(let address, let code): return "page fault at \(simHex(address)), error code \(simHex(code))"
        case .nonCanonical(let address): return "general protection: non-canonical address \(simHex(address))"
        case .physical(let error): return "page walk: \(error)"
        }
    }
}

/// A successful translation and the effective rights along the walk.
public struct SimTranslation: Equatable, Sendable {
    public var physical: UInt64
    public var writable: Bool
    public var user: Bool
    public var executable: Bool
    /// The leaf's PCD and PWT bits are both set: uncacheable with the reset PAT (device memory).
    public var uncached: Bool = false
}

/// The 4-level x86-64 page walk with the checks the hardware makes (CR0.WP=1, EFER.NXE=1, SMEP/SMAP off):
/// every level must be present and free of reserved bits; user access needs U/S at every level; writes need R/W at
/// every level (for the kernel too, because WP is set); instruction fetches fault if any level has XD. Large pages
/// (PS in the PDPTE or PDE) are supported. Accessed/dirty bits are not written: the kernel does not use them.
public struct SimPageTableWalker {
    /// MAXPHYADDR: entry address bits at and above this are reserved.
    public static let physicalAddressBits: UInt64 = 46
    static let addressMask: UInt64 = ((1 << physicalAddressBits) - 1) & ~0xfff
    static let reservedHighMask: UInt64 = ((1 << 52) - 1) & ~((1 << physicalAddressBits) - 1)

    public let memory: SimPhysicalMemory

    public init(memory: SimPhysicalMemory) { self.memory = memory }

    public static func isCanonical(_ address: UInt64) -> Bool {
        let top = address >> 47
        return top == 0 || top == 0x1ffff
    }

    public func translate(root: UInt64, address: UInt64, access: SimAccess, privilege: SimPrivilege)
        throws(SimTranslationFault) -> SimTranslation {
        memory.counters.pageTableWalks += 1
        guard Self.isCanonical(address) else { throw .nonCanonical(address: address) }
        var code: UInt64 = 0
        if access == .write { code |= PageFaultErrorCode.write }
        if privilege == .user { code |= PageFaultErrorCode.user }
        if access == .execute { code |= PageFaultErrorCode.instructionFetch }

        var table = root & Self.addressMask
        var user = true, writable = true, executable = true
        for level in 0..<4 {
            let shift = UInt64(39 - 9 * level)
            let entry: UInt64
            do throws(SimPhysicalMemoryError) {
                entry = try memory.read64(table + ((address >> shift) & 511) * 8)
            } catch { throw .physical(error) }
            guard entry & 1 != 0 else { throw .pageFault(address: address, errorCode: code) }
            let large = level != 3 && entry & 0x80 != 0
            if entry & Self.reservedHighMask != 0 || (level == 0 && entry & 0x80 != 0)
                || (large && entry & (((1 << shift) - 1) & ~0x1fff) != 0) {
                throw .pageFault(address: address, errorCode: code | PageFaultErrorCode.present | PageFaultErrorCode.reservedBit)
            }
            user = user && entry & 4 != 0
            writable = writable && entry & 2 != 0
            executable = executable && entry >> 63 == 0
            if level == 3 || large {
                let frameMask = Self.addressMask & ~((1 << shift) - 1)
                let physical = (entry & frameMask) | (address & ((1 << shift) - 1))
                let allowed = (privilege == .supervisor || user)
                    && (access != .write || writable)
                    && (access != .execute || executable)
                guard allowed else { throw .pageFault(address: address, errorCode: code | PageFaultErrorCode.present) }
                return SimTranslation(physical: physical, writable: writable, user: user, executable: executable,
                                      uncached: entry & 0x18 == 0x18)
            }
            table = entry & Self.addressMask
        }
        fatalError("unreachable: the walk ends at level 3")
    }
}
