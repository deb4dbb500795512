import Foundation
import XCTest

/// Isolation enforced by the hardware on the image: the I/O permission bitmap of the running PD.
final class IsolationTests: XCTestCase {
    func testUngrantedPortWriteFaultsAndGrantedPortsWork() throws {
        let mkimage = try BuiltImage.require(BuiltImage.mkimage)
        let binaries = try BuiltImage.require(BuiltImage.out.appendingPathComponent("binaries"))
        let dir = try BuiltImage.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = dir.appendingPathComponent("intruder.img")
        let manifest = ImageTools.repositoryRoot.appendingPathComponent("Tests/ImageTests/Manifests/intruder.toml")
        let built = try ImageTools.run(mkimage.path, [
            "build", "--manifest", manifest.path, "--binaries", binaries.path,
            "--loader", BuiltImage.out.appendingPathComponent("efi/BOOTX64.EFI").path,
            "--kernel", BuiltImage.out.appendingPathComponent("kernel.elf").path, "-o", image.path,
        ])
        XCTAssertEqual(built.status, 0, built.output)

        let result = try ImageTools.runScript([image.path, "--timeout", "45"])
        let output = result.output
        XCTAssertEqual(result.status, 0, output)
        // The serial driver writes COM1 from ring 3 (granted ports), so these lines arrive at all.
        XCTAssertTrue(output.contains("intruder: call to ungranted selector 356 returned: bad selector"), output)
        XCTAssertTrue(output.contains("intruder: writing ungranted I/O port 128"), output)
        XCTAssertTrue(output.contains("root: intruder faulted: general protection fault (vector 13)"), output)
        XCTAssertFalse(output.contains("the port write did not fault"), output)
    }
}
