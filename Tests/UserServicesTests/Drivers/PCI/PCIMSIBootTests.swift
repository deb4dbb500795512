import KernelABI
import PCIBus
import Sim
import UserRuntime
import XCTest
@testable import Kernel

/// MSI enable end to end on the simulator: the root task learns the kernel's message for a driver's message
/// interrupt before anyone runs and puts it in the PCI driver's client table; the driver asks the pci service to
/// enable MSI naming that interrupt, and the device's MSI capability then holds exactly the message the driver
/// itself gets from `assign_int`. A message interrupt it was not granted is refused.
final class PCIMSIBootTests: XCTestCase {
    final class Findings {
        var enabled: Result<UInt16, PCIServiceError>?
        var notGranted: Result<UInt16, PCIServiceError>?
        var assigned: (status: Status, message: MessageInterrupt)?
        var done = false
    }
    static let number: UInt64 = 25

    func probe(_ findings: Findings) -> SimProgram {
        SimProgram(name: "probe", main: { platform, rdi in
            let sys = SystemCalls(platform)
            guard let info = try? ComponentStartInfo.read(platform, at: ComponentStartInfo.address(entryArgument: rdi)),
                  let portal = info.portal(forService: "pci"),
                  let sm = info.interrupts.first(where: { $0.irq == Self.number })?.semaphore else { return }
            let pci = PCIClient(utcb: UTCB(platform: platform, base: ComponentLayout.utcb), portal: portal)
            findings.notGranted = pci.enableMSI(0, messageInterrupt: Self.number + 1)
            findings.enabled = pci.enableMSI(0, messageInterrupt: Self.number)
            findings.assigned = sys.assignMessageInterrupt(sm: sm, number: Self.number, requester: 0x18) // 00:03.0
            findings.done = true
            _ = sys.createSM(ComponentSelectors.firstFree, count: 0)
            while sys.down(sm: ComponentSelectors.firstFree) == .success {}
        })
    }

    func testTheDeviceGetsTheKernelsMessageForTheGrantedInterruptOnly() throws {
        try checkMSIEnable(interruptRemapping: false)
    }

    /// Under interrupt remapping the root task still learns the message before the device is bound (the root may
    /// name any device), the device gets the remappable message, and the driver assigns it for its own device,
    /// which the root bound to its PD: the entry then admits exactly that device.
    func testUnderInterruptRemappingTheDriverAssignsTheRemappableMessageForItsOwnDevice() throws {
        let system = try checkMSIEnable(interruptRemapping: true)
        XCTAssertEqual(system.kernel.platform.remappedRequester(ofMessage: Self.number - RootSelectors.lineCount), 0x18)
        XCTAssertEqual(system.kernel.invariantViolations(), [])
        XCTAssertTrue(system.consoleText.contains("root: blk: PCI device 00:03.0 bound to the IOMMU"), system.consoleText)
    }

    @discardableResult
    private func checkMSIEnable(interruptRemapping: Bool) throws -> SimSystem {
        let findings = Findings()
        let programs = SimBoot.components + [PCIBootTests.pci, probe(findings)]
        let manifest = try SimBoot.example("minimal.toml").replacingOccurrences(of: "memory = 64M", with: "memory = 64M\ninterrupts = 56")
            + PCIBootTests.manifestTail.replacingOccurrences(of: "pci_devices = [\"1af4:1001\"]",
                                                           with: "pci_devices = [\"1af4:1001\"]\n    interrupts = [\(Self.number)]")
        let blob = try SimBoot.compile(manifest, knownBinaries: Set(programs.map(\.name)))
        let system = try SimBoot.system(manifest: blob, programs: programs)
        let bus = FakePCIBus()
        let blk = PCIEnumerationTests.virtioBlock()
        blk.interrupt(line: 10, pin: 1)
        blk.capabilities([(0x09, 0x40), (0x05, 0x50)])
        blk.set16(0x52, PCIConfig.msi64Bit)
        let address = PCIAddress(bus: 0, device: 3, function: 0)
        bus.add(address, blk)
        system.machine.attach(SimPCIConfigPorts(bus: bus))
        if interruptRemapping { system.machine.installIOMMU(interruptRemapping: true) }
        let stop = system.run(maxSteps: 2_000_000) { $0.consoleText.contains("root: all components started") && findings.done }
        XCTAssertEqual(stop, .condition, system.consoleText)

        XCTAssertEqual(findings.notGranted?.failureStatus, .insufficientRights, "26 is not its message interrupt")
        XCTAssertEqual(try findings.enabled?.get(), PCIConfig.msi64Bit | PCIConfig.msiEnable)
        let assigned = try XCTUnwrap(findings.assigned)
        XCTAssertEqual(assigned.status, .success, "the root released it again after learning its message")
        let expected = interruptRemapping ? MessageInterrupt.remappable(handle: UInt16(Self.number))
            : MessageInterrupt.x86(vector: SimMessageInterrupts.vectorBase + Self.number - RootSelectors.lineCount, apicID: 0)
        XCTAssertEqual(assigned.message, expected)
        XCTAssertEqual(UInt64(blk.get32(0x54)) | UInt64(blk.get32(0x58)) << 32, expected.address)
        XCTAssertEqual(UInt64(blk.get16(0x5c)), expected.data)
        XCTAssertFalse(system.consoleText.contains("faulted"), system.consoleText)
        return system
    }
}
