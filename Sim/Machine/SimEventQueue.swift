/// Events scheduled in virtual time (device completions, injected interrupts). Events at the same time run in
/// the order they were scheduled, so a run depends only on its inputs and the machine's seed.
public struct SimEventQueue {
    public struct Event {
        public let time: UInt64
        public let sequence: UInt64
        public let label: String
        public let action: (SimMachine) -> Void
    }

    private var events: [Event] = []
    private var nextSequence: UInt64 = 0

    public init() {}

    public var isEmpty: Bool { events.isEmpty }
    public var count: Int { events.count }
    /// The time of the earliest event.
    public var nextTime: UInt64? { events.first?.time }

    public mutating func schedule(at time: UInt64, _ label: String, _ action: @escaping (SimMachine) -> Void) {
        let event = Event(time: time, sequence: nextSequence, label: label, action: action)
        nextSequence += 1
        // Insert after every event with time <= ours: stable order for equal times.
        let index = events.firstIndex { $0.time > time } ?? events.endIndex
        events.insert(event, at: index)
    }

    /// Removes and returns the earliest event if it is due at `now`.
    public mutating func popDue(now: UInt64) -> Event? {
        guard let first = events.first, first.time <= now else { return nil }
        return events.removeFirst()
    }
}
