import Foundation
import XCTest

/// examples/block.toml on QEMU with a real virtio-blk-pci device (tools/run --disk on a temporary file): the PCI
/// driver, the virtio-blk driver and blockcheck write, flush and read back a pattern; a second boot of the same
/// file finds it; the file on the host holds it. Without the device, the root task names it and starts the rest.
final class BlockImageTests: XCTestCase {
    func boot(disk: URL?) throws -> ImageTools.Result {
        let image = try BuiltImage.image("block")
        var arguments = [image.path, "--timeout", "120", "--until", disk == nil ? "root: all components started" : "blockcheck: done"]
        if let disk { arguments += ["--disk", disk.path] }
        return try ImageTools.runScript(arguments)
    }

    func testPatternSurvivesASecondBootOfTheSameDisk() throws {
        let dir = try BuiltImage.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let disk = try BuiltImage.disk(in: dir)

        let first = try boot(disk: disk)
        let out = first.output
        XCTAssertEqual(first.status, 0, out)
        XCTAssertTrue(out.contains("root: virtio-blk gets PCI device "), out)
        // Configuration space through the MCFG's window, which the kernel lists as device memory for the root.
        XCTAssertTrue(out.contains("kernel: PCI configuration windows (ACPI MCFG): segment 0 buses 0-255 at 0xb0000000"), out)
        XCTAssertTrue(out.contains("pci: serving 1 clients through ECAM (buses 0-255)"), out)
        XCTAssertFalse(out.contains("not granted"), "every memory BAR is claimed and granted:\n\(out)")
        let lines = out.split(whereSeparator: \.isNewline).map { String($0).trimmingCharacters(in: .whitespaces) }
        // The transitional device is driven through its modern interface (memory BARs the root claimed); without
        // ACCESS_PLATFORM its DMA uses physical addresses.
        XCTAssertTrue(lines.contains { $0.hasPrefix("virtio-blk: ") && $0.contains(" 1af4:1001, modern interface at 0x")
                                       && $0.contains("2048 sectors, MSI-X (message interrupt 24), flush")
                                       && $0.hasSuffix("DMA is not confined (the device does not offer ACCESS_PLATFORM)") }, out)
        // MSI-X: its table stays with the PCI driver, and every completion came with an interrupt.
        XCTAssertTrue(out.contains("root: virtio-blk: MSI-X table of PCI device 00:02.0 at 0x"), out)
        XCTAssertTrue(lines.contains { $0.hasPrefix("blockcheck: the driver saw ") && $0.hasSuffix(" completions, 0 of them only by polling") }, out)
        for line in [
            "blockcheck: disk: 2048 sectors of 512 bytes, up to 8 requests in flight",
            "blockcheck: no pattern on the disk yet",
            "blockcheck: past the end: refused: past the end of the device (bad range)",
            "blockcheck: zero length: refused: zero sectors (bad range)",
            "blockcheck: misaligned: refused: buffer offset not a multiple of the sector size (bad range)",
            "blockcheck: buffer not held: refused: buffer range not held (outside the attached pages, or revoked) (insufficient rights)",
            "blockcheck: overlapping: refused: overlaps a request in flight (bad state)",
            "blockcheck: 2 writes in flight",
            "blockcheck: boot 1 pattern written, flushed and read back: match",
        ] {
            XCTAssertTrue(lines.contains(line), "missing \(line) in\n\(out)")
        }
        XCTAssertFalse(out.contains("blockcheck: error"), out)
        XCTAssertFalse(out.contains("virtio-blk: error"), out)
        // The host file holds what was written and flushed.
        let bytes = [UInt8](try Data(contentsOf: disk))
        XCTAssertEqual(Array(bytes[0..<8]), Array("BLKCHECK".utf8))
        XCTAssertEqual(bytes[8], 1)

        let second = try boot(disk: disk)
        XCTAssertEqual(second.status, 0, second.output)
        XCTAssertTrue(second.output.contains("blockcheck: found the pattern of boot 1"), second.output)
        XCTAssertTrue(second.output.contains("blockcheck: boot 2 pattern written, flushed and read back: match"), second.output)
        XCTAssertEqual([UInt8](try Data(contentsOf: disk))[8], 2)
    }

    func testWithoutTheDeviceTheRootNamesItAndStartsTheRest() throws {
        let result = try boot(disk: nil)
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("root: cannot start virtio-blk: component virtio-blk: PCI device 1af4:1001 is not present (the bus has 00:00.0 8086:29c0"),
                      result.output)
        XCTAssertTrue(result.output.contains("root: started pci"), result.output)
        XCTAssertTrue(result.output.contains("root: not starting blockcheck: virtio-blk, which it needs, is not running"), result.output)
    }
}
