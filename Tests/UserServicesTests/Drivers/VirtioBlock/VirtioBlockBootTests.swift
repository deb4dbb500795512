import BlockCheckComponent
import PCIBus
import PCIDriver
import Sim
import VirtioBlockDriver
import XCTest

/// examples/block.toml on the simulator, with a fake bus and a legacy virtio-blk device: the driver finds its
/// device through the pci service, serves the block service with several requests in flight straight into the
/// client's pages, refuses bad requests with their reasons, and a second boot with the same disk reads what the
/// first wrote.
final class VirtioBlockBootTests: XCTestCase {
    static let virtioBlock = SimProgram(name: "virtioblk", entries: [
        { p, rdi in virtioBlockDriverMain(p, startInfo: rdi) },
        { p, rdi in virtioBlockPortal(p, startInfo: rdi) },
    ])
    static let blockCheck = SimProgram(name: "blockcheck", main: { p, rdi in blockCheckMain(p, startInfo: rdi) })
    static let ioBase = SimLegacyVirtioBlock.ioBase
    static let irq = SimLegacyVirtioBlock.irq

    static func boot(disk: [UInt8]? = nil) throws -> (SimSystem, SimLegacyVirtioBlock) {
        let programs = SimBoot.components + [PCIBootTests.pci, Self.virtioBlock, Self.blockCheck]
        let blob = try SimBoot.compile(try SimBoot.example("block.toml"), knownBinaries: Set(programs.map(\.name)))
        let system = try SimBoot.system(manifest: blob, programs: programs)
        let (device, _) = SimLegacyVirtioBlock.attach(to: system)
        if let disk { device.disk = disk }
        return (system, device)
    }

    func run(_ system: SimSystem) -> String {
        let stop = system.run(maxSteps: 6_000_000) { $0.serialText.contains("blockcheck: done") }
        XCTAssertEqual(stop, .condition, system.consoleText + system.serialText)
        return system.serialText
    }

    func testPatternIsWrittenFlushedReadBackAndFoundByTheNextBoot() throws {
        let (first, device) = try Self.boot()
        let out = run(first)
        for line in [
            "virtio-blk: 00:03.0 1af4:1001, legacy interface at ports 0xc040, queue of 128, 2048 sectors, irq 20 (message interrupt 24 unused: MSI-X needs the modern interface), flush; DMA is not confined (legacy virtio: an IOMMU does not translate it)",
            "blockcheck: disk: 2048 sectors of 512 bytes, up to 8 requests in flight",
            "blockcheck: before attach: refused: no buffer attached (insufficient rights)",
            "blockcheck: attached a buffer of 16 pages",
            "blockcheck: no pattern on the disk yet",
            "blockcheck: past the end: refused: past the end of the device (bad range)",
            "blockcheck: zero length: refused: zero sectors (bad range)",
            "blockcheck: misaligned: refused: buffer offset not a multiple of the sector size (bad range)",
            "blockcheck: buffer not held: refused: buffer range not held (outside the attached pages, or revoked) (insufficient rights)",
            "blockcheck: overlapping: refused: overlaps a request in flight (bad state)",
            "blockcheck: unknown tag: refused: no such request in flight (bad range)",
            "blockcheck: 2 writes in flight",
            "blockcheck: 2 reads in flight",
            "blockcheck: boot 1 pattern written, flushed and read back: match",
        ] {
            XCTAssertTrue(out.contains(line + "\n"), "missing \(line) in\n\(out)")
        }
        XCTAssertFalse(out.contains("error"), out)
        XCTAssertGreaterThanOrEqual(device.maxOutstanding, 2, "requests were in flight together at the device")
        XCTAssertTrue(device.served.contains { $0.type == 4 }, "a flush reached the device")
        XCTAssertFalse(device.served.contains { $0.sector >= 2047 && $0.type == 0 }, "no refused request reached the device")
        // The disk holds the pattern: magic and boot number, then the bytes.
        XCTAssertEqual(Array(device.disk[0..<8]), Array("BLKCHECK".utf8))
        XCTAssertEqual(device.disk[8], 1)
        XCTAssertEqual(device.disk[64 * 512 + 5], BlockCheckPattern.byte(5, seed: 1, first: false))

        let (second, again) = try Self.boot(disk: device.disk)
        let out2 = run(second)
        XCTAssertTrue(out2.contains("blockcheck: found the pattern of boot 1\n"), out2)
        XCTAssertTrue(out2.contains("blockcheck: boot 2 pattern written, flushed and read back: match\n"), out2)
        XCTAssertEqual(again.disk[8], 2)
        XCTAssertFalse(second.consoleText.contains("faulted"), second.consoleText)
    }

    func testWithoutTheDeviceTheRootNamesItAndStartsTheRest() throws {
        let programs = SimBoot.components + [PCIBootTests.pci, Self.virtioBlock, Self.blockCheck]
        let blob = try SimBoot.compile(try SimBoot.example("block.toml"), knownBinaries: Set(programs.map(\.name)))
        let system = try SimBoot.system(manifest: blob, programs: programs)
        let stop = system.run(maxSteps: 2_000_000) { $0.consoleText.contains("root: all components started") }
        XCTAssertEqual(stop, .condition, system.consoleText)
        XCTAssertTrue(system.consoleText.contains(
            "root: cannot start virtio-blk: component virtio-blk: PCI device 1af4:1001 is not present (the bus has no devices)"),
            system.consoleText)
        XCTAssertTrue(system.consoleText.contains("root: not starting blockcheck: virtio-blk, which it needs, is not running"),
                      system.consoleText)
        XCTAssertTrue(system.consoleText.contains("root: started pci"), system.consoleText)
    }
}
