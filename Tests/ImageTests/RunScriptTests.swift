import Foundation
import XCTest

/// tools/run is the one way images are booted; its argument errors must be clear and never start QEMU.
final class RunScriptTests: XCTestCase {
    func testMissingImageIsNamedInTheError() throws {
        let result = try ImageTools.runScript(["/nonexistent/none.img"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.output.contains("run: error: image '/nonexistent/none.img' does not exist"), result.output)
    }

    func testBadTimeoutIsRejected() throws {
        let image = FileManager.default.temporaryDirectory.appendingPathComponent("run-script-test.img")
        FileManager.default.createFile(atPath: image.path, contents: Data([0]))
        defer { try? FileManager.default.removeItem(at: image) }
        let result = try ImageTools.runScript([image.path, "--timeout", "soon"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.output.contains("--timeout needs whole seconds, got 'soon'"), result.output)
    }
}
