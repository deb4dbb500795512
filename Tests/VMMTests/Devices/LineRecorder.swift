@testable import DeviceModels

/// Interrupt lines that remember each line's level and count its rising edges, for device tests.
final class LineRecorder: InterruptLines {
    private(set) var levels = [Int: Bool]()
    private(set) var risingEdges = [Int: Int]()
    private(set) var calls = 0

    func setLevel(line: Int, high: Bool) {
        calls += 1
        if high && !(levels[line] ?? false) { risingEdges[line, default: 0] += 1 }
        levels[line] = high
    }

    func level(_ line: Int) -> Bool { levels[line] ?? false }
    func edges(_ line: Int) -> Int { risingEdges[line] ?? 0 }
}

/// A deterministic generator (SplitMix64) for the randomized tests: the same seed replays the same run.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
