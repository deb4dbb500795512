import BlockCheckComponent
import PCIDriver
import Sim
import VirtioBlockDriver
import XCTest

/// examples/block.toml on the simulator without the device: the root task names the missing device, starts the
/// PCI driver and everything that does not need the block driver. (The I/O itself is tested on QEMU:
/// ImageTests.BlockImageTests.)
final class VirtioBlockBootTests: XCTestCase {
    static let virtioBlock = SimProgram(name: "virtioblk", entries: [
        { p, rdi in virtioBlockDriverMain(p, startInfo: rdi) },
        { p, rdi in virtioBlockPortal(p, startInfo: rdi) },
    ])
    static let blockCheck = SimProgram(name: "blockcheck", main: { p, rdi in blockCheckMain(p, startInfo: rdi) })

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
