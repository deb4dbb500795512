import XCTest
@testable import Sim

/// Random bytes as a guest, in each mode: the host survives, every run ends in an exit, and a second run of the
/// same bytes gives the same exits at the same virtual times.
final class SimGuestRandomBytesTests: XCTestCase {
    private func run(seed: UInt64) throws -> [String] {
        let vm = try GuestMachine("cpuid")
        var random = SimRandom(seed: seed)
        try vm.write((0..<8192).map { _ in UInt8(truncatingIfNeeded: random.next()) }, at: 0x20000)
        try vm.setGate(14, 0x20000)
        var state: SimGuestState
        switch seed % 3 {
        case 0:
            state = SimGuestState.realMode(rip: 0)
            state.cs = .real(0x2000, code: true)
        case 1:
            state = SimGuestState.protectedMode32(rip: 0x20000, rsp: 0x80000)
        default:
            state = vm.longModeState(at: "start")
            state.rip = 0x20000
        }
        state.rflags = 0x202
        var controls = SimGuestControls()
        controls.interceptsMSR = { msr, _ in msr & 1 == 0 }
        controls.interceptsPort = { $0 & 1 == 0 }
        var trace: [String] = []
        for _ in 0..<8 {
            let exit = vm.run(&state, controls, budget: 5_000)
            trace.append("\(exit) at \(vm.cpu.clock)")
            if let next = exit.nextRip {
                state.rip = next // emulate nothing, skip the instruction
            } else if exit != .budgetExhausted && exit != .halted {
                break
            }
        }
        return trace
    }

    func testRandomBytesAlwaysEndInAnExitAndRunTheSameTwice() throws {
        var kinds: Set<String> = []
        for seed in 1...24 as ClosedRange<UInt64> {
            let trace = try run(seed: seed)
            XCTAssertFalse(trace.isEmpty)
            XCTAssertFalse(trace.contains { $0.hasPrefix("failedEntry") }, "seed \(seed): a valid state never fails entry")
            XCTAssertEqual(try run(seed: seed), trace, "seed \(seed) is deterministic")
            kinds.formUnion(trace.map { String($0.prefix { $0 != "(" && $0 != " " }) })
        }
        print("random-bytes exit kinds: \(kinds.sorted())")
        XCTAssertTrue(kinds.isSuperset(of: ["budgetExhausted", "shutdown", "nestedPageFault"]), "\(kinds)")
    }
}
