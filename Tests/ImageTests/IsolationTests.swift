import Foundation
import XCTest

/// Isolation enforced by the hardware on the image: the I/O permission bitmap of the running PD, and each EC's own
/// x87/SSE registers.
final class IsolationTests: XCTestCase {
    /// Builds an image from a test manifest in Tests/ImageTests/Manifests and boots it.
    private func boot(manifest name: String) throws -> ImageTools.Result {
        let mkimage = try BuiltImage.require(BuiltImage.mkimage)
        let binaries = try BuiltImage.require(BuiltImage.out.appendingPathComponent("binaries"))
        let dir = try BuiltImage.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = dir.appendingPathComponent("\(name).img")
        let manifest = ImageTools.repositoryRoot.appendingPathComponent("Tests/ImageTests/Manifests/\(name).toml")
        let built = try ImageTools.run(mkimage.path, [
            "build", "--manifest", manifest.path, "--binaries", binaries.path,
            "--loader", BuiltImage.out.appendingPathComponent("efi/BOOTX64.EFI").path,
            "--kernel", BuiltImage.out.appendingPathComponent("kernel.elf").path, "-o", image.path,
        ])
        XCTAssertEqual(built.status, 0, built.output)
        return try ImageTools.runScript([image.path, "--timeout", "45"])
    }

    func testUngrantedPortWriteFaultsAndGrantedPortsWork() throws {
        let result = try boot(manifest: "intruder")
        let output = result.output
        XCTAssertEqual(result.status, 0, output)
        // The serial driver writes COM1 from ring 3 (granted ports), so these lines arrive at all.
        XCTAssertTrue(output.contains("intruder: call to ungranted selector 356 returned: bad selector"), output)
        XCTAssertTrue(output.contains("intruder: writing ungranted I/O port 128"), output)
        XCTAssertTrue(output.contains("root: intruder faulted: general protection fault (vector 13)"), output)
        XCTAssertFalse(output.contains("the port write did not fault"), output)
    }

    func testVectorRegistersSurvivePreemptionByAnotherPD() throws {
        let result = try boot(manifest: "fpu")
        let output = result.output
        XCTAssertEqual(result.status, 0, output)
        XCTAssertTrue(output.contains("fpu-a: vector registers intact across preemption"), output)
        XCTAssertTrue(output.contains("fpu-b: vector registers intact across preemption"), output)
        XCTAssertFalse(output.contains("vector registers changed"), output)
    }
}
