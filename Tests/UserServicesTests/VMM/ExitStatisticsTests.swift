import KernelABI
import XCTest
@testable import VMM

/// The VMM's exit table (VMM/Monitor/ExitStatistics.swift): counts and the handler's average ticks per reason,
/// most frequent first, ties by exit number; a reason the ABI does not have is not counted (and nothing traps).
final class ExitStatisticsTests: XCTestCase {
    func testReasonsAreCountedAveragedAndOrderedByFrequency() {
        var statistics = ExitStatistics()
        XCTAssertEqual(statistics.lines(), [])
        for ticks in [100, 300] as [UInt64] { statistics.record(VMExit.cpuid, ticks: ticks) }
        for ticks in [10, 20, 30] as [UInt64] { statistics.record(VMExit.io, ticks: ticks) }
        statistics.record(VMExit.nestedPageFault, ticks: 7)
        statistics.record(14, ticks: 5)
        statistics.record(VMExit.count, ticks: 1_000)     // beyond the ABI's exit numbers
        statistics.record(UInt64.max, ticks: 1_000)
        XCTAssertEqual(statistics.total, 7)
        XCTAssertEqual(statistics.lines(), [
            "io 3 exits, 20 ticks each in the VMM",
            "cpuid 2 exits, 200 ticks each in the VMM",
            "exception-14 1 exits, 5 ticks each in the VMM",
            "mmio 1 exits, 7 ticks each in the VMM",
        ])
    }

    func testEveryExitNumberHasAName() {
        let names = (0..<VMExit.count).map(ExitStatistics.name)
        XCTAssertEqual(ExitStatistics.name(VMExit.startup), "startup")
        XCTAssertEqual(ExitStatistics.name(VMExit.recall), "recall")
        XCTAssertEqual(ExitStatistics.name(50), "exit-50", "a number the ABI leaves free is still named")
        XCTAssertFalse(names.contains(""))
    }
}
