import XCTest
import Foundation
@testable import SimGuest

/// Performance figures of the guest CPU, printed (not asserted: the host is shared). The test only checks that the
/// measured work was done.
final class SimGuestBenchmarkTests: XCTestCase {
    private func seconds(_ body: () -> Void) -> Double {
        let start = Date()
        body()
        return Date().timeIntervalSince(start)
    }

    func testPrintGuestInstructionRateAndExitRoundTrip() throws {
        let vm = try GuestMachine("benchmark")
        for (symbol, perIteration, iterations) in [("tight", 2, 2_000_000), ("wide", 8, 500_000)] {
            var state = vm.longModeState(at: symbol)
            state.rcx = UInt64(iterations)
            let before = vm.cpu.clock
            var exit = SimGuestExit.budgetExhausted
            let time = seconds { exit = vm.run(&state, budget: 100_000_000) }
            XCTAssertNotNil(exit.nextRip, "\(exit)")
            XCTAssertEqual(state.rcx, 0)
            let instructions = vm.cpu.clock - before
            XCTAssertEqual(instructions, UInt64(perIteration * iterations))
            print(String(format: "guest CPU benchmark: %@ loop (%d instructions per block): %.1f M guest instructions/s",
                         symbol, perIteration, Double(instructions) / time / 1e6))
        }
        var state = vm.longModeState(at: "exits")
        let roundTrips = 20_000
        let time = seconds {
            for _ in 0..<roundTrips {
                let exit = vm.run(&state)
                state.rip = exit.nextRip ?? state.rip
            }
        }
        XCTAssertEqual(state.rip, vm.image["exits"] + 2, "every round trip ended in the CPUID exit and skipped it")
        print(String(format: "guest CPU benchmark: CPUID exit round trip (run -> exit -> run): %.1f us host time", time / Double(roundTrips) * 1e6))
    }
}
