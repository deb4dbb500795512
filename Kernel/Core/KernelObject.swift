/// A reference to one kernel object, as object capabilities hold it. An enum (not a protocol existential) so the
/// kernel stays Embedded-clean and every switch over object types is checked for completeness.
enum KernelObject {
    case pd(ProtectionDomain)
    case ec(ExecutionContext)
    case sc(SchedulingContext)
    case pt(Portal)
    case sm(Semaphore)

    /// Type codes returned by `lookup` in `rsi` for object capabilities (ABI.md).
    var typeCode: UInt64 {
        switch self {
        case .pd: return 1
        case .ec: return 2
        case .sc: return 3
        case .pt: return 4
        case .sm: return 5
        }
    }

    var isAlive: Bool {
        switch self {
        case .pd(let o): return o.isAlive
        case .ec(let o): return o.isAlive
        case .sc(let o): return o.isAlive
        case .pt(let o): return o.isAlive
        case .sm(let o): return o.isAlive
        }
    }

    func isSame(as other: KernelObject) -> Bool {
        switch (self, other) {
        case (.pd(let a), .pd(let b)): return a === b
        case (.ec(let a), .ec(let b)): return a === b
        case (.sc(let a), .sc(let b)): return a === b
        case (.pt(let a), .pt(let b)): return a === b
        case (.sm(let a), .sm(let b)): return a === b
        default: return false
        }
    }
}
