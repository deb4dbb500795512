import BootFormat
import KernelABI
import PCIBus
import PCIDriver
import Sim
import UserRuntime
import XCTest

/// Device assignment end to end on the simulator, with a fake bus behind the CF8/CFC ports: the root task finds
/// the manifest's devices, grants a driver exactly its device's I/O BAR and interrupt line, gives the PCI driver
/// the configuration ports and a per-client portal for each driver, and starts everything else when a device is
/// missing.
final class PCIBootTests: XCTestCase {
    final class Findings {
        var info: ComponentStartInfo?
        var count: Result<Int, PCIServiceError>?
        var described: Result<PCIFunction, PCIServiceError>?
        var outOfList: Result<PCIFunction, PCIServiceError>?
        var barWrite: Result<Void, PCIServiceError>?
        var vendorRegisterWrite: Result<Void, PCIServiceError>?
        var command: Result<UInt16, PCIServiceError>?
        var configPortRead: Bool = false
        var barPortWorks: Bool = false
        var done = false
        /// Fault once done (a driver dying with its device mastering the bus).
        var faultWhenDone = false
        /// The CF8 latch when the driver faulted, read through `latch` (the simulated mechanism).
        var latch: (() -> UInt32)?
        var latchAtFault: UInt32?
    }

    static let pci = SimProgram(name: "pci", entries: [
        { p, rdi in pciDriverMain(p, startInfo: rdi) },
        { p, rdi in pciServicePortal(p, startInfo: rdi) },
    ])

    /// A driver stand-in: reads its start info, asks the pci service about its device, tries what it may not.
    static func probe(_ findings: Findings) -> SimProgram {
        SimProgram(name: "probe", main: { platform, rdi in
            let sys = SystemCalls(platform)
            guard let info = try? ComponentStartInfo.read(platform, at: ComponentStartInfo.address(entryArgument: rdi)),
                  let portal = info.portal(forService: "pci") else { return }
            findings.info = info
            let pci = PCIClient(utcb: UTCB(platform: platform, base: ComponentLayout.utcb), portal: portal)
            findings.count = pci.count()
            findings.described = pci.describe(0)
            findings.outOfList = pci.describe(1)
            findings.barWrite = pci.write(0, offset: 0x10, width: .dword, 0xffff_ffff)
            findings.vendorRegisterWrite = pci.write(0, offset: 0x80, width: .dword, 0x5a5a_5a5a)
            findings.command = pci.setCommand(0, flags: PCICommandFlags.io | PCICommandFlags.busMaster)
            if let bar = info.ports.first { _ = platform.portIn8(UInt16(bar.first)); findings.barPortWorks = true }
            findings.done = true
            if findings.faultWhenDone {
                // Leave the address register on another register than the one the root changes.
                _ = pci.read(0, offset: 0x80, width: .dword)
                findings.latchAtFault = findings.latch?()
                _ = platform.load64(0)
            }
            _ = sys.createSM(ComponentSelectors.firstFree, count: 0)
            while sys.down(sm: ComponentSelectors.firstFree) == .success {}
        })
    }

    /// The PCI driver runs above the serial driver's priority, so its log calls queue behind lower ones at the
    /// serial handler: a reply that serves it from the queue must hand the CPU to its SC (Kernel.runOnce; the debug
    /// kernel asserts that the fast path never keeps a lower SC running).
    static let manifestTail = """

    [[component]]
    name = "pci"
    binary = "pci"
    memory = 256K
    priority = 25

      [[component.provides]]
      name = "pci"

      [[component.uses]]
      name = "log"
      provider = "serial"

    [[component]]
    name = "blk"
    binary = "probe"
    memory = 256K
    pci_devices = ["1af4:1001"]

      [[component.uses]]
      name = "pci"

    [[component]]
    name = "nic"
    binary = "probe"
    memory = 256K
    pci_devices = ["8086:100e"]

      [[component.uses]]
      name = "pci"

    """

    func boot(_ findings: Findings) throws -> (SimSystem, FakePCIBus) {
        let (system, bus, _) = try Self.bootWithPorts(findings)
        return (system, bus)
    }

    static func bootWithPorts(_ findings: Findings) throws -> (SimSystem, FakePCIBus, SimPCIConfigPorts) {
        let programs = SimBoot.components + [Self.pci, Self.probe(findings)]
        let blob = try SimBoot.compile(try SimBoot.example("minimal.toml") + Self.manifestTail,
                                       knownBinaries: Set(programs.map(\.name)))
        // Device memory where the fake device's 32-bit BAR lies, not where its 64-bit one does.
        let system = try SimBoot.system(manifest: blob, programs: programs,
                                        deviceMemory: [PhysicalRange(base: 0xfe00_0000, size: 16 << 20)])
        let bus = FakePCIBus()
        bus.add(PCIAddress(bus: 0, device: 0, function: 0), .init(vendor: 0x8086, device: 0x29c0))
        let blk = PCIEnumerationTests.virtioBlock()
        blk.interrupt(line: 10, pin: 1)
        // MSI-X with its table and pending bits in BAR 1 (as QEMU's virtio devices have it).
        blk.capabilities([(0x11, 0x60)])
        blk.set16(0x62, 0x0001)
        blk.set32(0x64, 0x0000_0001)
        blk.set32(0x68, 0x0000_0801)
        bus.add(PCIAddress(bus: 0, device: 3, function: 0), blk)
        bus.add(PCIAddress(bus: 0, device: 4, function: 0), .init(vendor: 0x1af4, device: 0x1002))
        let ports = SimPCIConfigPorts(bus: bus)
        system.machine.attach(ports)
        return (system, bus, ports)
    }

    func testDriverGetsItsDeviceAndNothingElseAndAMissingDeviceStopsOnlyItsComponent() throws {
        let findings = Findings()
        let (system, bus) = try boot(findings)
        let stop = system.run(maxSteps: 2_000_000) { $0.consoleText.contains("root: all components started") && findings.done }
        XCTAssertEqual(stop, .condition, system.consoleText)
        let console = system.consoleText
        XCTAssertTrue(console.contains("root: cannot start nic: component nic: PCI device 8086:100e is not present " +
                                       "(the bus has 00:00.0 8086:29c0, 00:03.0 1af4:1001, 00:04.0 1af4:1002)"), console)
        XCTAssertTrue(console.contains("root: started hello"), console)
        XCTAssertTrue(console.contains("root: pci registered service pci for blk"), console)
        XCTAssertTrue(console.contains("root: blk gets PCI device 00:03.0 1af4:1001, irq 10, BAR 0 ports 0xc040+0x40"), console)
        // The memory BAR in device memory holds the MSI-X table: it goes to the PCI driver, never to blk; the BAR
        // the kernel does not list as device memory is refused.
        XCTAssertTrue(console.contains("root: blk: MSI-X table of PCI device 00:03.0 at 0xfebf1000+0x1000 stays with the PCI driver"), console)
        XCTAssertTrue(console.contains("root: blk: MMIO 0x8000000000+0x4000 not granted: the kernel does not let the root claim it as device memory (bad range)"), console)

        let info = try XCTUnwrap(findings.info)
        XCTAssertEqual(info.ports, [.init(first: 0xc040, count: 0x40)], "exactly the I/O BAR")
        XCTAssertEqual(info.mmio, [], "the MSI-X table's page is not blk's")
        XCTAssertEqual(info.interrupts.map { $0.irq }, [10], "exactly its INTx line")
        XCTAssertTrue(findings.barPortWorks)
        XCTAssertEqual(try findings.count?.get(), 1)
        let described = try XCTUnwrap(findings.described?.get())
        XCTAssertEqual(described.address, PCIAddress(bus: 0, device: 3, function: 0))
        XCTAssertEqual(described.bars.first, PCIBAR(index: 0, kind: .io, base: 0xc040, size: 0x40))
        XCTAssertEqual(findings.outOfList?.failureStatus, .badRange, "00:04.0 is not blk's")
        XCTAssertEqual(findings.barWrite?.failureStatus, .insufficientRights)
        XCTAssertNoThrow(try findings.vendorRegisterWrite?.get())
        XCTAssertEqual(bus.functions[PCIAddress(bus: 0, device: 3, function: 0)]!.get32(0x80), 0x5a5a_5a5a)
        XCTAssertEqual(bus.functions[PCIAddress(bus: 0, device: 3, function: 0)]!.get32(0x10), 0xc041, "the BAR stayed")
        XCTAssertEqual(try findings.command?.get(), 0x5)
        XCTAssertFalse(console.contains("faulted"), console)
    }
    func testAFaultingDriversDeviceStopsMasteringTheBusBeforeItsPagesAreReused() throws {
        let findings = Findings()
        findings.faultWhenDone = true
        let (system, bus, ports) = try Self.bootWithPorts(findings)
        findings.latch = { ports.latch }
        let blk = PCIAddress(bus: 0, device: 3, function: 0)
        let stop = system.run(maxSteps: 2_000_000) { $0.consoleText.contains("root: blk stopped") }
        XCTAssertEqual(stop, .condition, system.consoleText)
        XCTAssertEqual(try findings.command?.get(), 0x5, "the driver had turned bus mastering on")
        XCTAssertEqual(bus.functions[blk]!.get16(4) & PCIConfig.commandBusMaster, 0)
        XCTAssertEqual(bus.functions[blk]!.get16(4) & PCIConfig.commandIO, PCIConfig.commandIO, "only mastering is off")
        let console = system.consoleText
        let faulted = try XCTUnwrap(console.range(of: "root: blk faulted"))
        let off = try XCTUnwrap(console.range(of: "root: blk: bus mastering of PCI device 00:03.0 off before its pages are reused"))
        XCTAssertLessThan(faulted.lowerBound, off.lowerBound)
        // The root put the address register back: a PCI driver preempted between select and data is not misled.
        XCTAssertEqual(findings.latchAtFault, 0x8000_1880, "00:03.0 offset 0x80")
        XCTAssertEqual(ports.latch, findings.latchAtFault)
        XCTAssertTrue(bus.writes.contains { $0.0 == blk && $0.1 == 4 && $0.2 & 4 == 0 }, "the root wrote the command")
    }
}

extension Result where Failure == PCIServiceError {
    var failureStatus: Status? {
        if case .failure(let e) = self { return e.status }
        return nil
    }
}
