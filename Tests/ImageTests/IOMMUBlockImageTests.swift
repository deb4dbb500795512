import Foundation
import XCTest

/// examples/block.toml on QEMU with an emulated VT-d (`intel-iommu,aw-bits=48`): the kernel turns DMA remapping
/// on, the root task binds the virtio-blk driver's device to the driver's PD, and block I/O still works. The
/// device is the transitional one (legacy I/O interface): QEMU refuses `iommu_platform=on` for it, and its DMA
/// bypasses VT-d, so this shows binding and legitimate I/O with remapping on, not confinement of this device
/// (DeviceBindingBootTests checks what the bound device reaches, on the simulator's IOMMU).
final class IOMMUBlockImageTests: XCTestCase {
    func testBlockIOWorksWithTheDeviceBoundAndDMARemappingOn() throws {
        let image = try BuiltImage.image("block")
        let dir = try BuiltImage.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let disk = dir.appendingPathComponent("disk.raw")
        try Data(count: 1 << 20).write(to: disk)
        let run = try ImageTools.runScript([image.path, "--timeout", "120", "--until", "blockcheck: done",
                                            "--device", "intel-iommu,aw-bits=48", "--disk", disk.path])
        let out = run.output
        XCTAssertEqual(run.status, 0, out)
        let lines = out.split(whereSeparator: \.isNewline).map { String($0).trimmingCharacters(in: .whitespaces) }
        XCTAssertTrue(lines.contains { $0.hasPrefix("kernel: IOMMU: VT-d, 1 remapping unit") && $0.contains("DMA remapping on") }, out)
        let bound = try XCTUnwrap(lines.firstIndex {
            $0.hasPrefix("root: virtio-blk: PCI device ") && $0.hasSuffix(" bound to the IOMMU (DMA reaches its memory only)")
        }, out)
        let started = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("root: started virtio-blk ") }, out)
        XCTAssertLessThan(bound, started, "bound before the driver runs")
        XCTAssertFalse(out.contains("root: no IOMMU"), out)
        XCTAssertTrue(lines.contains("blockcheck: boot 1 pattern written, flushed and read back: match"), out)
        XCTAssertFalse(out.contains("DMA fault"), out)
        XCTAssertFalse(out.contains("faulted"), out)
        let written = try Data(contentsOf: disk)
        XCTAssertEqual(Array(written.prefix(8)), Array("BLKCHECK".utf8), "the pattern reached the disk file")
    }
}
