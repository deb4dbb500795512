import Foundation
import XCTest

/// Restart without loss on QEMU (Tests/ImageTests/Manifests/block-restart.toml): the virtio-blk driver's first run
/// dies in its portal handler right after the third of blockcheck's eight queued writes reached the device. The
/// root task turns bus mastering off before the dead driver's pages are reused and restarts it; the new run finds
/// the device still running and resets it before mastering again; blockcheck is reconnected, resubmits what was
/// not acknowledged, and every block reads back, from the disk file too.
final class BlockRestartImageTests: XCTestCase {
    func testTheDriverKilledMidIOIsRestartedAndNoAcknowledgedWriteIsLost() throws {
        let dir = try BuiltImage.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let disk = try BuiltImage.disk(in: dir)
        let run = try BuiltImage.bootTestManifest("block-restart", timeout: "120", until: "blockcheck: done",
                                                  extra: ["--disk", disk.path])
        let out = run.output
        XCTAssertEqual(run.status, 0, out)
        let lines = out.split(whereSeparator: \.isNewline).map { String($0).trimmingCharacters(in: .whitespaces) }
        func index(_ prefix: String) throws -> Int { try XCTUnwrap(lines.firstIndex { $0.hasPrefix(prefix) }, "\(prefix) in\n\(out)") }
        let fault = try index("root: virtio-blk faulted: page fault (vector 14)")
        let masteringOff = try index("root: virtio-blk: bus mastering of PCI device 00:02.0 off before its pages are reused")
        let restart = try index("root: restarting virtio-blk (restart 1 of 3)")
        XCTAssertLessThan(fault, masteringOff)
        XCTAssertLessThan(masteringOff, restart, "mastering off before the dead driver's pages go")
        let starts = lines.filter { $0.hasPrefix("virtio-blk: 00:02.0 1af4:1001, modern interface at 0x") }
        XCTAssertEqual(starts.count, 2, out)
        XCTAssertFalse(starts[0].contains("previous driver"), out)
        XCTAssertTrue(starts[1].contains("; reset the device a previous driver left running (status 0x"), out)
        XCTAssertGreaterThan(try index("root: reconnected blockcheck to virtio-blk's block"), restart)
        for line in ["blockcheck: boot 1 pattern written, flushed and read back: match",
                     "blockcheck: 8 writes acknowledged, up to 4 in flight", "blockcheck: 8 blocks read back: match"] {
            XCTAssertTrue(lines.contains(line), "missing \(line) in\n\(out)")
        }
        XCTAssertTrue(lines.contains { $0.hasPrefix("blockcheck: the block service came back 1 time(s); ") }, out)
        XCTAssertFalse(out.contains("blockcheck: error") || out.contains("blockcheck faulted"), out)
        // Every block of the many-block part is on the disk file: 8 blocks of 4 KiB from sector 512, each
        // beginning with its block's seed.
        let bytes = [UInt8](try Data(contentsOf: disk))
        XCTAssertEqual(Array(bytes[0..<8]), Array("BLKCHECK".utf8))
        for b in 0..<8 {
            let at = (512 + 8 * b) * 512
            XCTAssertFalse(bytes[at..<at + 4096].allSatisfy { $0 == 0 }, "block \(b) never reached the disk")
        }
    }
}
