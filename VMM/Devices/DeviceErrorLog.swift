/// The errors a device model recorded since the VMM last took them: the first `capacity` in order, the rest only
/// counted, so a guest hammering a bad register costs a counter, not memory.
public struct DeviceErrorLog {
    public static let capacity = 16
    /// Errors kept since the last `take`, oldest first.
    public private(set) var pending: [DeviceProgrammingError] = []
    /// Errors since the last `take` beyond `capacity`.
    public private(set) var dropped = 0
    /// Errors ever recorded.
    public private(set) var total: UInt64 = 0

    public init() {}

    mutating func record(_ error: DeviceProgrammingError) {
        total &+= 1
        if pending.count < Self.capacity { pending.append(error) } else { dropped &+= 1 }
    }

    /// The kept errors and the number dropped since the last call; starts a new round.
    public mutating func take() -> (errors: [DeviceProgrammingError], dropped: Int) {
        defer { pending = []; dropped = 0 }
        return (pending, dropped)
    }
}
