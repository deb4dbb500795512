import BlockService
import PCIBus
import Sim
import VirtioBlockDriver
import XCTest

/// A VM whose virtio-blk disk is the `block` service (`disk_service`), on the simulator: the PCI driver, the
/// virtio-blk driver on the simulator's legacy virtio-blk device, and a VMM running VMM/Guests/bzImage's
/// virtio-blk-check on its PC. The guest's requests reach the driver's device (the test reads the device's disk
/// afterwards), what it wrote reads back, and it sees a writable disk. The driver killed mid-write is restarted and
/// the guest notices nothing; a driver that does not come back makes the guest's requests fail with IOERR, logged
/// by the VMM, which carries on to the guest's power-off.
final class DiskServiceBootTests: XCTestCase {
    static let manifest = """
    [machine]
    memory = 128M

    [[component]]
    name = "serial"
    binary = "serial"
    memory = 1M
    priority = 20
    io_ports = [[0x3f8, 8]]
    interrupts = [4]

      [[component.provides]]
      name = "log"

    [[component]]
    name = "pci"
    binary = "pci"
    memory = 1M
    priority = 15

      [[component.provides]]
      name = "pci"

      [[component.uses]]
      name = "log"

    [[component]]
    name = "virtio-blk"
    binary = "virtioblk"
    memory = 1M
    priority = 15
    pci_devices = ["1af4:1001"]

      [[component.provides]]
      name = "block"

      [[component.uses]]
      name = "pci"

      [[component.uses]]
      name = "log"

    [[component]]
    name = "vmm"
    binary = "vmm"
    vmm = true
    memory = 16M
    priority = 10

      [[component.uses]]
      name = "log"
      provider = "serial"

      [[component.uses]]
      name = "disk"
      kind = "block"

    [[vm]]
    name = "vmblk"
    vmm = "vmm"
    kernel = "virtio-blk-check"
    disk_service = "disk"
    memory = 32M
    """

    /// What sector 0 holds before the guest runs; the guest prints it.
    static let sectorZero = "VMBLK-DISK: written by the test"

    /// The guest's 48 KiB at sector 16: qword k = (k + 1) * 0x9e3779b97f4a7c15.
    static var pattern: [UInt8] {
        (0..<(0xc000 / 8)).flatMap { k -> [UInt8] in
            let word = UInt64(k + 1) &* 0x9e37_79b9_7f4a_7c15
            return (0..<8).map { UInt8(truncatingIfNeeded: word >> (8 * UInt64($0))) }
        }
    }

    /// The system with `driver` as the virtio-blk driver (restarted on a fault when `restart`), a legacy
    /// virtio-blk device of 2048 sectors on the fake bus at 00:03.0.
    func boot(driver: SimProgram = VirtioBlockBootTests.virtioBlock, restart: Bool = false,
              source manifest: String = DiskServiceBootTests.manifest, guests: [String] = []) throws
        -> (SimSystem, SimLegacyVirtioBlock) {
        var source = manifest
        if restart {
            source = source.replacingOccurrences(of: "pci_devices = [\"1af4:1001\"]\n",
                                                 with: "pci_devices = [\"1af4:1001\"]\nrestart_on_fault = true\n")
        }
        let programs = SimBoot.components + [PCIBootTests.pci, driver, SimBoot.vmm]
        let kernel = try VMMGuests.bzImage("virtio-blk-check")
        let blob = try SimBoot.compile(source, file: "disk-service.toml", machineMemory: 128 << 20,
                                       knownBinaries: Set(programs.map(\.name)).union(["virtio-blk-check"] + guests))
        let system = try SimBoot.system(manifest: blob, programs: programs, guests: guests,
                                        modules: [("virtio-blk-check", kernel)], memorySize: 128 << 20)
        let (device, _) = SimLegacyVirtioBlock.attach(to: system)
        device.disk.replaceSubrange(0..<Self.sectorZero.utf8.count, with: Array(Self.sectorZero.utf8))
        return (system, device)
    }

    func run(_ system: SimSystem) -> String {
        // The root task's line of the VMM's end report comes last, also after a refusal.
        let stop = system.run(maxSteps: 30_000_000) { $0.serialText.contains("root: vmm reports: VM vmblk") }
        XCTAssertEqual(stop, .condition, system.consoleText + system.serialText)
        return system.serialText
    }

    func expectLines(_ lines: [String], in out: String) {
        for line in lines { XCTAssertTrue(out.contains("vmm: vmblk: " + line + "\n"), "missing \(line) in\n\(out)") }
    }

    func testTheGuestWritesAndReadsBackThroughTheBlockDriver() throws {
        let (system, device) = try boot()
        let out = run(system)
        XCTAssertTrue(out.contains("vmm: running vmblk (32 MiB, 1 vCPU)\n"), out)
        expectLines([
            "VMBLK: capacity 2048 sectors, writable",
            "VMBLK: sector 0 says " + Self.sectorZero,
            "VMBLK: write 96 sectors at sector 16: status 0",
            "VMBLK: flush: status 0",
            "VMBLK: read 96 sectors at sector 16: status 0",
            "VMBLK: read back: match",
            "VMBLK: read past the end: status 1",
            "VMBLK: done",
        ], in: out)
        XCTAssertTrue(out.contains("vmm: vmblk powered off\n"), out)
        XCTAssertFalse(out.contains("device:"), out)
        // On the driver's disk: the guest's bytes, written through the VMM's 32 KiB buffer in two requests.
        XCTAssertEqual(Array(device.disk[(16 * 512)..<(16 * 512 + 0xc000)]), Self.pattern)
        let writes = device.served.filter { $0.type == 1 }.map { [$0.sector, UInt64($0.bytes)] }
        XCTAssertEqual(writes, [[16, 32768], [80, 16384]])
        XCTAssertTrue(device.served.contains { $0.type == 4 }, "the guest's flush reached the device")
        XCTAssertEqual(device.served.filter { $0.type == 0 }.map(\.sector), [0, 16, 80], "the reads reached it too")
        XCTAssertFalse(system.consoleText.contains("faulted"), system.consoleText)
    }

    /// The driver faults while serving the second piece of the guest's write (after the first piece reached the
    /// device): the root restarts it and reconnects the VMM, whose session attaches its buffer again and submits
    /// the piece again; the guest's write still succeeds and reads back.
    func testADriverKilledMidWriteIsRestartedAndTheGuestNoticesNothing() throws {
        let runs = VirtioBlockRestartBootTests.Incarnations()
        let driver = SimProgram(name: "virtioblk", entries: [
            { p, rdi in runs.count += 1; virtioBlockDriverMain(p, startInfo: rdi) },
            { p, rdi in
                virtioBlockPortal(p, startInfo: rdi) { p, request in
                    if runs.count == 1, request.count >= 3, request[0] == BlockOperation.submit.rawValue,
                       request[1] == BlockRequestKind.write.rawValue, request[2] == 80 { _ = p.load64(8) }
                }
            },
        ])
        let (system, device) = try boot(driver: driver, restart: true)
        let out = run(system)
        let console = system.consoleText
        XCTAssertEqual(runs.count, 2, console)
        XCTAssertTrue(console.contains("root: virtio-blk faulted: page fault (vector 14)"), console)
        XCTAssertTrue(console.contains("root: reconnected vmm to virtio-blk's disk"), console)
        XCTAssertFalse(console.contains("vmm faulted"), console)
        expectLines([
            "VMBLK: write 96 sectors at sector 16: status 0",
            "VMBLK: flush: status 0",
            "VMBLK: read back: match",
            "VMBLK: done",
        ], in: out)
        XCTAssertEqual(Array(device.disk[(16 * 512)..<(16 * 512 + 0xc000)]), Self.pattern)
        // The piece at 80 reached the dying driver's device and was submitted again to the new driver's.
        XCTAssertEqual(device.served.filter { $0.type == 1 }.map { [$0.sector, UInt64($0.bytes)] },
                       [[16, 32768], [80, 16384], [80, 16384]])
        XCTAssertEqual(device.staleDMA, 0)
    }

    /// Without a restart the service stays gone: each request fails after the session's wait, the guest gets IOERR
    /// (status 1) for it, the VMM logs why and runs the guest to its end.
    func testADriverThatStaysDeadGivesTheGuestIOErrorsAndTheVMMCarriesOn() throws {
        let driver = SimProgram(name: "virtioblk", entries: [
            { p, rdi in virtioBlockDriverMain(p, startInfo: rdi) },
            { p, rdi in
                virtioBlockPortal(p, startInfo: rdi) { p, request in
                    if request.count >= 2, request[0] == BlockOperation.submit.rawValue,
                       request[1] == BlockRequestKind.write.rawValue { _ = p.load64(8) }
                }
            },
        ])
        let (system, _) = try boot(driver: driver)
        let out = run(system)
        expectLines([
            "VMBLK: capacity 2048 sectors, writable",
            "VMBLK: sector 0 says " + Self.sectorZero,
            "VMBLK: write 96 sectors at sector 16: status 1",
            "VMBLK: flush: status 1",
            "VMBLK: read 96 sectors at sector 16: status 1",
            "VMBLK: done",
            "device: disk service: write of 32768 bytes at sector 16: the block service's provider is gone (not " +
            "restarted in time) (aborted)",
        ], in: out)
        XCTAssertTrue(out.contains("vmm: vmblk powered off\n"), out)
        XCTAssertTrue(system.consoleText.contains("root: virtio-blk faulted"), system.consoleText)
        XCTAssertFalse(system.consoleText.contains("vmm faulted"), system.consoleText)
    }

    /// Only a Linux guest's PC has a virtio-blk function: a Multiboot kernel given a disk service is refused,
    /// saying so, rather than run without the disk it was promised.
    func testAMultibootKernelWithADiskServiceIsRefusedSayingWhy() throws {
        let source = Self.manifest.replacingOccurrences(of: "kernel = \"virtio-blk-check\"", with: "kernel = \"guest-multiboot\"")
        let (system, device) = try boot(source: source, guests: ["guest-multiboot"])
        let out = run(system)
        XCTAssertTrue(out.contains("vmm: cannot run vmblk: a disk needs a Linux guest's PC (a bzImage kernel); a " +
                                   "Multiboot kernel has no virtio-blk device\n"), out)
        XCTAssertTrue(out.contains("root: vmm reports: VM vmblk was stopped by its VMM\n"), out)
        XCTAssertTrue(device.served.isEmpty)
    }
}
