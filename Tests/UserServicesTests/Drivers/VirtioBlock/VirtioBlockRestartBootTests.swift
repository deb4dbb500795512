import BlockCheckComponent
import BlockService
import PCIBus
import Sim
import VirtioBlockDriver
import XCTest

/// The virtio-blk driver killed mid-I/O (its portal handler faults right after the third of blockcheck's eight
/// queued writes reached the device): the root turns bus mastering off before the dead driver's pages are reused,
/// restarts it, and the new driver resets the device before mastering again, so nothing the device held is DMAed
/// into handed-back pages; blockcheck is reconnected, attaches again, submits what was not acknowledged again, and
/// every block reads back. Without restarts the client is told its provider is gone and carries on.
final class VirtioBlockRestartBootTests: XCTestCase {
    final class Incarnations { var count = 0 }

    /// The driver; its first incarnation faults after serving the `faultAt`-th write of blockcheck's many-block
    /// part, before replying (the write is at the device, the caller never hears of it).
    static func faultyDriver(_ runs: Incarnations, faultAt: Int = 3) -> SimProgram {
        var manyWrites = 0
        return SimProgram(name: "virtioblk", entries: [
            { p, rdi in runs.count += 1; virtioBlockDriverMain(p, startInfo: rdi) },
            { p, rdi in
                virtioBlockPortal(p, startInfo: rdi) { p, request in
                    guard runs.count == 1, request.count >= 3, request[0] == BlockOperation.submit.rawValue,
                          request[1] == BlockRequestKind.write.rawValue,
                          request[2] >= BlockCheckPattern.manyFirstSector else { return }
                    manyWrites += 1
                    if manyWrites == faultAt { _ = p.load64(8) }
                }
            },
        ])
    }

    /// examples/block.toml, the driver restarted on a fault when `restart` says so.
    func boot(restart: Bool, runs: Incarnations) throws -> (SimSystem, SimLegacyVirtioBlock, FakePCIBus.Function) {
        var source = try SimBoot.example("block.toml")
        if restart {
            let line = "pci_devices = [\"1af4:1001\"]\n"
            XCTAssertTrue(source.contains(line))
            source = source.replacingOccurrences(of: line, with: line + "restart_on_fault = true\n")
        }
        let programs = SimBoot.components + [PCIBootTests.pci, Self.faultyDriver(runs), VirtioBlockBootTests.blockCheck]
        let blob = try SimBoot.compile(source, knownBinaries: Set(programs.map(\.name)))
        let system = try SimBoot.system(manifest: blob, programs: programs)
        let (device, function) = SimLegacyVirtioBlock.attach(to: system)
        // Slow enough that the dying driver's requests are still at the device when the root stops it.
        device.completionDelay = 20_000
        return (system, device, function)
    }

    func testDriverKilledMidIOIsRestartedAndNoAcknowledgedWriteIsLost() throws {
        let runs = Incarnations()
        let (system, device, _) = try boot(restart: true, runs: runs)
        let stop = system.run(maxSteps: 20_000_000) { $0.serialText.contains("blockcheck: done") }
        XCTAssertEqual(stop, .condition, system.consoleText + system.serialText)
        let out = system.serialText, console = system.consoleText
        XCTAssertEqual(runs.count, 2, console)
        XCTAssertTrue(console.contains("root: virtio-blk faulted: page fault (vector 14)"), console)
        XCTAssertTrue(console.contains("root: virtio-blk: bus mastering of PCI device 00:03.0 off before its pages are reused"),
                      console)
        XCTAssertTrue(console.contains("root: restarting virtio-blk (restart 1 of 3)"), console)
        XCTAssertTrue(console.contains("root: reconnected blockcheck to virtio-blk's block"), console)
        XCTAssertFalse(console.contains("blockcheck faulted"), console)
        for line in [
            "blockcheck: boot 1 pattern written, flushed and read back: match",
            "blockcheck: 8 writes acknowledged, up to 4 in flight",
            "blockcheck: 8 blocks read back: match",
            "blockcheck: the block service came back 1 time(s); 3 request(s) submitted again",
        ] {
            XCTAssertTrue(out.contains(line + "\n"), "missing \(line) in\n\(out)")
        }
        XCTAssertFalse(out.contains("error"), out)
        XCTAssertEqual(out.components(separatedBy: "virtio-blk: 00:03.0 1af4:1001").count - 1, 2, "two driver starts\n\(out)")
        // The dying driver's requests were still at the device; none was DMAed after mastering came back.
        XCTAssertGreaterThan(device.heldWhileNotMastering, 0, "the fault came while requests were at the device")
        XCTAssertEqual(device.staleDMA, 0, "the device DMAed for the dead driver's queue")
        // Every acknowledged block is on the disk.
        for b in 0..<BlockCheckPattern.manyBlocks {
            let at = Int(BlockCheckPattern.manyFirstSector + 8 * b) * 512
            for i in [0, 1, 4095] {
                XCTAssertEqual(device.disk[at + i], BlockCheckPattern.byte(UInt64(i), seed: BlockCheckPattern.manySeed(b),
                                                                           first: false), "block \(b) byte \(i)")
            }
        }
    }

    func testWithoutRestartTheClientIsToldItsProviderIsGone() throws {
        let runs = Incarnations()
        let (system, _, _) = try boot(restart: false, runs: runs)
        let stop = system.run(maxSteps: 20_000_000) { $0.serialText.contains("blockcheck: done") }
        XCTAssertEqual(stop, .condition, system.consoleText + system.serialText)
        XCTAssertEqual(runs.count, 1)
        XCTAssertTrue(system.consoleText.contains("root: virtio-blk stopped (the manifest does not ask for restarts)"),
                      system.consoleText)
        XCTAssertTrue(system.serialText.contains(
            "blockcheck: error: submitting the write of block 2: the block service's provider is gone (not restarted in time) (aborted)\n"),
            system.serialText)
        XCTAssertFalse(system.consoleText.contains("blockcheck faulted"), system.consoleText)
    }
}
