import XCTest
import Foundation
import CUnicorn
@testable import Sim

/// Performance figures of the guest CPU, printed (not asserted: the host is shared). The test only checks that the
/// measured work was done.
final class SimGuestBenchmarkTests: XCTestCase {
    private func seconds(_ body: () -> Void) -> Double {
        let start = Date()
        body()
        return Date().timeIntervalSince(start)
    }

    /// The same tight loop on a bare Unicorn (no hooks, no paging): the cost of the guest CPU's block hook.
    private func bareUnicornRate(iterations: UInt64) -> Double {
        var handle: OpaquePointer?
        guard uc_open(UC_ARCH_X86, UC_MODE_64, &handle) == UC_ERR_OK, let uc = handle else { return 0 }
        defer { uc_close(uc) }
        uc_mem_map(uc, 0, 0x10000, UC_PROT_ALL.rawValue)
        var code: [UInt8] = [0x48, 0xff, 0xc9, 0x75, 0xfb, 0xf4] // dec rcx; jnz; hlt
        uc_mem_write(uc, 0x1000, &code, UInt64(code.count))
        var rcx = iterations
        uc_reg_write(uc, Int32(UC_X86_REG_RCX.rawValue), &rcx)
        let time = seconds { uc_emu_start(uc, 0x1000, 0x1005, 0, 0) }
        uc_reg_read(uc, Int32(UC_X86_REG_RCX.rawValue), &rcx)
        XCTAssertEqual(rcx, 0)
        return Double(2 * iterations) / time
    }

    func testPrintGuestInstructionRateAndExitRoundTrip() throws {
        print(String(format: "guest CPU benchmark: bare Unicorn, same tight loop, no hooks: %.1f M guest instructions/s",
                     bareUnicornRate(iterations: 2_000_000) / 1e6))
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
        for pages in [256, 1024] {
            let fresh = try GuestMachine("benchmark")
            var touch = fresh.longModeState(at: "touch")
            touch.rcx = UInt64(pages)
            var exit = SimGuestExit.budgetExhausted
            let time = seconds { exit = fresh.run(&touch) }
            XCTAssertNotNil(exit.nextRip, "\(exit)")
            XCTAssertGreaterThanOrEqual(fresh.cpu.cachedTranslations(asid: 1), pages)
            XCTAssertEqual(try fresh.read64(0x200000 + UInt64(pages - 1) * 0x1000), 0x200000 + UInt64(pages - 1) * 0x1000)
            print(String(format: "guest CPU benchmark: first touch of %d guest pages: %.1f ms (%.0f us per page)",
                         pages, time * 1e3, time / Double(pages) * 1e6))
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
