import KernelABI
import Sim
import XCTest
@testable import Kernel

/// Benchmark (printed figures; the assertions check only that the work is independent of the range's size):
/// delegating a 1 GiB range, revoking one page of it (splits), and revoking the rest, in simulator counts:
/// physical RAM words read and written by the kernel, capabilities made, page-table frames used.
final class MemoryRangeBenchmarkTests: XCTestCase {
    struct Cost: CustomStringConvertible {
        var words: UInt64, capabilities: Int, tables: Int
        var description: String { "\(words) RAM words, \(capabilities) capabilities in the receiver, \(tables) table frames" }
    }

    func testDelegatingAndRevokingAGigabyte() throws {
        let h = try KernelHarness(memorySize: 4 << 30)
        let block = try XCTUnwrap(h.windowBlock(order: 18))
        let (child, _) = h.makeChild(at: 300, quota: 2000)
        let target: UInt64 = 0x100_0000_0
        let counters = h.machine.memory.counters
        func measure(_ work: () -> Void) -> Cost {
            let before = counters.wordReads + counters.wordWrites
            work()
            return Cost(words: counters.wordReads + counters.wordWrites - before, capabilities: child.space.memory.count,
                        tables: child.tableFrames.count)
        }
        let gigabyte = CapabilityRange(kind: .memory, base: block, order: 18, permissions: Permissions.memoryAll)
        let delegate = measure { XCTAssertEqual(h.status(h.rootEC, .delegate, 300, gigabyte.word, target), .success) }
        let onePage = measure {
            XCTAssertEqual(h.status(h.rootEC, .revoke, CapabilityRange(kind: .memory, base: block + 12345, permissions: 0).word, 0), .success)
        }
        let rest = measure { XCTAssertEqual(h.status(h.rootEC, .revoke, gigabyte.word, 0), .success) }
        print("benchmark: delegate 1 GiB: \(delegate)")
        print("benchmark: revoke 1 page of it (1 GiB and 2 MiB leaves split, 18 capability splits): \(onePage)")
        print("benchmark: revoke the rest: \(rest)")
        XCTAssertEqual(delegate.capabilities, 1)
        XCTAssertEqual(onePage.capabilities, 18, "2^18 pages less one are 18 aligned pieces")
        XCTAssertEqual(rest.capabilities, 0)
        XCTAssertLessThan(delegate.words, 64, "one leaf, not 262,144 entries")
        XCTAssertLessThan(onePage.words, 4096, "two demotions of 512 entries, not a page walk of the gigabyte")
        h.assertInvariants()
    }
}
