import Foundation
import XCTest

/// Block I/O confined by the IOMMU on QEMU (Tests/ImageTests/Manifests/block-iommu.toml, `intel-iommu,aw-bits=48,
/// intremap=on` and a modern-only virtio-blk device with `iommu_platform=on`, interrupting through MSI-X): the kernel turns DMA remapping on, the root task
/// binds the driver's device to the driver's PD before it runs, the driver negotiates ACCESS_PLATFORM and gives the
/// device its own virtual addresses, which VT-d translates through the PD's DMA table; the pattern reaches the
/// disk file and no DMA fault is reported. (A device pointed at memory its PD does not hold is blocked and reported:
/// MessageInterruptImageTests; what a bound device reaches is checked on the simulator's IOMMU: DeviceBindingBootTests.)
final class IOMMUBlockImageTests: XCTestCase {
    func testBlockIOGoesThroughTheIOMMUAtTheDriversOwnAddresses() throws {
        let dir = try BuiltImage.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let disk = try BuiltImage.disk(in: dir)
        let run = try BuiltImage.bootTestManifest("block-iommu", timeout: "120", until: "blockcheck: done",
                                                  devices: ["intel-iommu,aw-bits=48,intremap=on"], extra: ["--modern-disk", disk.path])
        let out = run.output
        XCTAssertEqual(run.status, 0, out)
        let lines = out.split(whereSeparator: \.isNewline).map { String($0).trimmingCharacters(in: .whitespaces) }
        XCTAssertTrue(lines.contains { $0.hasPrefix("kernel: IOMMU: VT-d, 1 remapping unit") && $0.contains("DMA remapping on") }, out)
        let bound = try XCTUnwrap(lines.firstIndex {
            $0.hasPrefix("root: virtio-blk: PCI device ") && $0.hasSuffix(" bound to the IOMMU (DMA reaches its memory only)")
        }, out)
        let started = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("root: started virtio-blk ") }, out)
        XCTAssertLessThan(bound, started, "bound before the driver runs")
        XCTAssertTrue(lines.contains { $0.hasPrefix("virtio-blk: ") && $0.contains(" 1af4:1042, modern interface at 0x")
                                       && $0.contains(", MSI-X (message interrupt 24), flush")
                                       && $0.hasSuffix("; DMA confined by the IOMMU (device addresses are the driver's own)") }, out)
        // Its MSI-X message goes through an interrupt-remapping entry that admits only this device, and every
        // completion came with an interrupt.
        XCTAssertTrue(out.contains("interrupt remapping on"), out)
        XCTAssertTrue(lines.contains { $0.hasPrefix("blockcheck: the driver saw ") && $0.hasSuffix(" completions, 0 of them only by polling") }, out)
        XCTAssertTrue(lines.contains("blockcheck: boot 1 pattern written, flushed and read back: match"), out)
        XCTAssertTrue(lines.contains("blockcheck: 8 blocks read back: match"), out)
        XCTAssertFalse(out.contains("DMA fault"), out)
        XCTAssertFalse(out.contains("faulted"), out)
        let written = try Data(contentsOf: disk)
        XCTAssertEqual(Array(written.prefix(8)), Array("BLKCHECK".utf8), "the pattern reached the disk file")
    }
}
