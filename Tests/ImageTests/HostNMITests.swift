import Foundation
import XCTest

/// Host NMIs (a watchdog's, a platform error's) arrive wherever the CPU is: in a guest (an SVM or VMX NMI exit), in
/// a PD, in the kernel, in the idle loop. The kernel counts and reports them and nothing else changes: before this,
/// one in the kernel halted it as a kernel fault and one in ring 3 reached that PD as exception 2.
final class HostNMITests: XCTestCase {
    func testNMIsWhereverTheCPUIsAreCountedAndChangeNoGuestLine() throws {
        let image = try BuiltImage.image("vm-tests")
        let result = try ImageTools.runScript([image.path, "--timeout", "150", "--nmi-every", "3"])
        let output = result.output
        XCTAssertEqual(result.status, 0, output)
        XCTAssertFalse(output.contains("faulted"), output)
        XCTAssertFalse(output.contains("kernel: FATAL"), output)
        let expected = try TestGuestLines.expected()
        let seen = TestGuestLines.seen(in: output)
        for (vm, lines) in expected { XCTAssertEqual(seen[vm] ?? [], lines, "VM \(vm):\n\(output)") }

        let reports = output.components(separatedBy: "kernel: host NMI: ").dropFirst().map { report in
            report.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .punctuationCharacters)) }
        }
        let sent = output.components(separatedBy: "run: sent ").dropFirst().first
            .flatMap { Int($0.prefix { $0.isNumber }) } ?? 0
        guard let last = reports.last, last.count >= 2 else { return XCTFail("no NMI report:\n\(output)") }
        XCTAssertGreaterThanOrEqual(sent, 100, output)
        XCTAssertGreaterThanOrEqual(last[0], 50, "NMIs the kernel counted of \(sent) sent")
        XCTAssertLessThanOrEqual(last[0], sent)
        XCTAssertGreaterThanOrEqual(last[1], 1, "no NMI arrived while a guest ran:\n\(output)")
    }
}
