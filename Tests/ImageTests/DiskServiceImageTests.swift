import Foundation
import XCTest

/// Tests/ImageTests/Manifests/vm-disk-service.toml on QEMU (SVM) with a real virtio-blk-pci device on a temporary
/// file: the VMM's guest (VMM/Guests/bzImage/virtio-blk-check) sees a writable disk of the file's size whose sector
/// 0 is the file's, and what it writes, flushes and reads back through the VMM's block service lands in the file.
final class DiskServiceImageTests: XCTestCase {
    func testTheGuestWritesAndReadsBackThroughTheBlockDriverIntoTheHostFile() throws {
        let dir = try BuiltImage.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = Array("VMBLK-DISK: on the host".utf8)
        let disk = try BuiltImage.disk(in: dir, startingWith: text)

        let result = try BuiltImage.bootTestManifest("vm-disk-service", timeout: "120",
                                                     until: "reports: VM vmblk", extra: ["--disk", disk.path])
        let out = result.output
        XCTAssertEqual(result.status, 0, out)
        for line in [
            "vmm: running vmblk (32 MiB, 1 vCPU)",
            "vmm: vmblk: VMBLK: capacity 2048 sectors, writable",
            "vmm: vmblk: VMBLK: sector 0 says VMBLK-DISK: on the host",
            "vmm: vmblk: VMBLK: write 96 sectors at sector 16: status 0",
            "vmm: vmblk: VMBLK: flush: status 0",
            "vmm: vmblk: VMBLK: read 96 sectors at sector 16: status 0",
            "vmm: vmblk: VMBLK: read back: match",
            "vmm: vmblk: VMBLK: read past the end: status 1",
            "vmm: vmblk powered off",
        ] {
            XCTAssertTrue(out.contains(line + "\n") || out.contains(line + "\r\n"), "missing \(line) in\n\(out)")
        }
        XCTAssertFalse(out.contains("device: disk service"), out)
        // The file holds the guest's 48 KiB at sector 16: qword k = (k + 1) * 0x9e3779b97f4a7c15.
        let written = [UInt8](try Data(contentsOf: disk))
        let expected = (0..<(0xc000 / 8)).flatMap { k -> [UInt8] in
            let word = UInt64(k + 1) &* 0x9e37_79b9_7f4a_7c15
            return (0..<8).map { UInt8(truncatingIfNeeded: word >> (8 * UInt64($0))) }
        }
        XCTAssertEqual(Array(written[(16 * 512)..<(16 * 512 + 0xc000)]), expected)
        XCTAssertEqual(Array(written[0..<text.count]), text, "sector 0 untouched")
    }

    /// Debian's kernel (Manifests/linux-disk-service.toml): Linux's virtio-blk driver finds the disk and its init
    /// reads block 0 of /dev/vda, which comes from the host file through the block driver.
    func testLinuxReadsItsDiskThroughTheBlockDriver() throws {
        let dir = try BuiltImage.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = Array("LINUX-GUEST-DISK: served by the block driver\n".utf8)
        let disk = try BuiltImage.disk(in: dir, startingWith: text)
        let result = try BuiltImage.bootTestManifest("linux-disk-service", timeout: "240",
                                                     until: "reports: VM linux powered off", extra: ["--disk", disk.path])
        let out = result.output
        XCTAssertEqual(result.status, 0, out)
        XCTAssertTrue(out.contains("vmm: linux: LINUX-GUEST: init started"), out)
        XCTAssertTrue(out.contains("vmm: linux: LINUX-GUEST: disk says LINUX-GUEST-DISK: served by the block driver"), out)
        XCTAssertTrue(out.contains("vmm: linux powered off"), out)
        XCTAssertFalse(out.contains("device: disk service"), out)
    }
}
