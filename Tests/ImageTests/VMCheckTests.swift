import Foundation
import XCTest

/// The SVM backend on the image (QEMU -cpu max: SVM with nested paging): vmcheck (Tests/ImageTests/Manifests/vm.toml)
/// builds a VM, runs its real-mode guest and checks every exit. Its PASS/FAIL lines must be exactly vm.expected, the
/// lines the simulator prints too (UserServicesTests.VMCheckBootTests), so both machines give the same.
final class VMCheckTests: XCTestCase {
    func testVMCheckPassesOnSVMWithTheLinesTheSimulatorPrints() throws {
        let result = try BuiltImage.bootTestManifest("vm", timeout: "90")
        let output = result.output
        XCTAssertEqual(result.status, 0, output)
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
