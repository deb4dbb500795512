/// The base addresses of the six segments (from the guest's segment registers' hidden parts).
public struct SegmentBases: Equatable, Sendable {
    public var es: UInt64 = 0, cs: UInt64 = 0, ss: UInt64 = 0, ds: UInt64 = 0, fs: UInt64 = 0, gs: UInt64 = 0

    public init() {}

    public subscript(segment: Segment) -> UInt64 {
        get {
            switch segment {
            case .es: es
            case .cs: cs
            case .ss: ss
            case .ds: ds
            case .fs: fs
            case .gs: gs
            }
        }
        set {
            switch segment {
            case .es: es = newValue
            case .cs: cs = newValue
            case .ss: ss = newValue
            case .ds: ds = newValue
            case .fs: fs = newValue
            case .gs: gs = newValue
            }
        }
    }
}
