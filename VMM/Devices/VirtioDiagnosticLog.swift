/// What a virtio device tells the VMM about a driver's mistakes: the error that stopped it and ignored
/// accesses (read-only fields written, notifications it could not act on). Bounded, so a guest that repeats a
/// mistake in a loop costs the VMM no memory; the VMM drains it after an exit and logs each line.
public final class VirtioDiagnosticLog {
    public static let capacity = 32

    public private(set) var messages: [String] = []
    /// Messages dropped since the last drain because the log was full.
    public private(set) var droppedCount = 0

    public init() {}

    func record(_ message: String) {
        if messages.count < Self.capacity { messages.append(message) } else { droppedCount += 1 }
    }

    /// The messages so far (and a line saying how many were dropped), emptying the log.
    public func drain() -> [String] {
        var lines = messages
        if droppedCount > 0 { lines.append("\(droppedCount) more messages dropped") }
        messages = []
        droppedCount = 0
        return lines
    }
}
