/// The result of every hypercall, returned in `rax`. Every error a user PD can provoke has its own code;
/// none of them can crash the kernel.
public enum Status: UInt64, Sendable, CustomStringConvertible {
    case success = 0
    /// The operation timed out (timed semaphore down).
    case timeout = 1
    /// The hypercall number does not exist.
    case badHypercall = 2
    /// The selector is out of range or names an empty slot (or the destination slot is occupied).
    case badSelector = 3
    /// The selector names an object of another type than the hypercall needs.
    case wrongType = 4
    /// The capability lacks a permission the operation needs.
    case insufficientRights = 5
    /// The PD's kernel-memory quota (or the machine) cannot pay for the object.
    case outOfMemory = 6
    /// A range, address, priority or count argument is invalid (misaligned, non-canonical, too large, kernel space).
    case badRange = 7
    /// The object is in a state that forbids the operation (e.g. reply with no caller, portal EC busy).
    case badState = 8
    /// The operation would deadlock or abort the call (the callee died, the portal was revoked).
    case aborted = 9

    public var description: String {
        switch self {
        case .success: return "success"
        case .timeout: return "timeout"
        case .badHypercall: return "bad hypercall"
        case .badSelector: return "bad selector"
        case .wrongType: return "wrong object type"
        case .insufficientRights: return "insufficient rights"
        case .outOfMemory: return "out of memory or quota"
        case .badRange: return "bad range"
        case .badState: return "bad state"
        case .aborted: return "aborted"
        }
    }
}
