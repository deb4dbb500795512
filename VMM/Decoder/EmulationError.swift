/// Why an emulated instruction did not complete. The state then holds what the processor would show at the fault:
/// untouched for ordinary instructions (every memory access comes before any register write), the completed
/// iterations for REP strings; rip still points at the instruction, so the VMM can inject the fault.
public enum EmulationError: Error, Equatable, Sendable {
    /// The read callback refused the access (no device, no mapping: a #PF or a stopped VM for the VMM to decide).
    case readFailed(address: UInt64, size: Int)
    case writeFailed(address: UInt64, size: Int)
    /// A 64-bit-mode access whose linear address is not canonical (48-bit): #GP(0), or #SS(0) through SS.
    case nonCanonicalAddress(UInt64, segment: Segment)

    public var description: String {
        switch self {
        case .readFailed(let address, let size): "read of \(size) bytes at 0x\(String(address, radix: 16)) failed"
        case .writeFailed(let address, let size): "write of \(size) bytes at 0x\(String(address, radix: 16)) failed"
        case .nonCanonicalAddress(let address, _): "non-canonical address 0x\(String(address, radix: 16))"
        }
    }
}

/// How an emulated instruction ended.
public enum EmulationOutcome: Equatable, Sendable {
    /// Done: rip is past the instruction.
    case completed
    /// A REP string instruction did the most iterations one call may do and rcx is not zero yet: rip still points
    /// at it, so the guest executes it again (and exits again), as after an interrupt between iterations.
    case repeatPending
}
