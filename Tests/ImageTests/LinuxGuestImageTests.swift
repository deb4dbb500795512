import Foundation
import XCTest

/// examples/linux.toml on the image (QEMU -cpu max, SVM with nested paging): Debian's unmodified cloud kernel in
/// the real VMM reaches its init, reads its virtio disk and powers off, which the VMM reports. Needs
/// tools/linux-guest/build before tools/build-image (the image is missing otherwise).
final class LinuxGuestImageTests: XCTestCase {
    func testDebianKernelBootsReadsItsDiskAndPowersOffOnSVM() throws {
        let image = try BuiltImage.image("linux")
        let result = try ImageTools.runScript([image.path, "--timeout", "240", "--until", "reports: VM linux powered off"])
        let output = result.output.replacingOccurrences(of: "\r", with: "")
        let disk = try XCTUnwrap(FileManager.default.contents(
            atPath: ImageTools.repositoryRoot.appendingPathComponent("out/linux-guest/disk.img").path))
        let text = String(decoding: disk.prefix(512).prefix { $0 != 10 && $0 != 0 }, as: UTF8.self)
        XCTAssertTrue(output.contains("vmm: running linux (128 MiB, 1 vCPU)"), output)
        XCTAssertTrue(output.contains("vmm: linux: LINUX-GUEST: init started"), output)
        XCTAssertTrue(output.contains("vmm: linux: LINUX-GUEST: disk says " + text), output)
        XCTAssertTrue(output.contains("vmm: linux powered off"), output)
        XCTAssertTrue(output.contains(" reports: VM linux powered off"), output)
        XCTAssertFalse(output.contains("faulted"), output)
    }

    /// Two tenants (Manifests/linux-two-vms.toml): one VMM is given a bzImage cut short and refuses it with the
    /// loader's reason; the other tenant's Linux boots, reads its disk and powers off all the same.
    func testACorruptKernelIsRefusedWhileTheOtherTenantsLinuxRuns() throws {
        let result = try BuiltImage.bootTestManifest("linux-two-vms", timeout: "240", until: "reports: VM linux powered off")
        let output = result.output.replacingOccurrences(of: "\r", with: "")
        XCTAssertTrue(output.contains("vmm-broken: cannot run broken: Linux image: syssize says"), output)
        XCTAssertTrue(output.contains("vmm: linux: LINUX-GUEST: init started"), output)
        XCTAssertTrue(output.contains("vmm: linux powered off"), output)
        XCTAssertTrue(output.contains(" reports: VM linux powered off"), output)
        XCTAssertFalse(output.contains("faulted"), output)
    }
}
