import Foundation
import XCTest

/// The VMX backend on Bochs: vmcheck (Tests/ImageTests/Manifests/vm.toml) builds a VM, runs its real-mode guest,
/// checks every exit and then plays a hostile VMM (refused hypercalls, refused replies and states, one the CPU
/// itself refuses). Its PASS/FAIL lines must be exactly vm.expected, what the simulator (VMCheckBootTests) and QEMU's
/// SVM (VMCheckTests) print: the same statuses and exits on all three machines.
final class VMXCheckTests: XCTestCase {
    func testVMCheckPassesOnVMXWithTheLinesTheOtherMachinesPrint() throws {
        let result = try BuiltImage.bootTestManifest("vm", timeout: "120", onBochs: true)
        let output = result.output
        XCTAssertEqual(result.status, 0, output)
        XCTAssertTrue(output.contains("kernel: virtual machines: Intel VMX"), output)
        XCTAssertFalse(output.contains("root: cannot start"), output)
        XCTAssertFalse(output.contains("faulted"), output)
        let lines = output.split(whereSeparator: \.isNewline).map { $0.replacingOccurrences(of: "\r", with: "") }
        let checks = lines.filter { $0.hasPrefix("vmcheck: PASS") || $0.hasPrefix("vmcheck: FAIL") }
        let file = ImageTools.repositoryRoot.appendingPathComponent("Tests/ImageTests/Manifests/vm.expected")
        let expected = try String(contentsOf: file, encoding: .utf8).split(whereSeparator: \.isNewline).map(String.init)
        XCTAssertEqual(checks, expected, output)
        XCTAssertTrue(lines.contains("vmcheck: done"), output)
    }
}
