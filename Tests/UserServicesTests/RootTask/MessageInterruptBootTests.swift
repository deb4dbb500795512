import KernelABI
import Sim
import UserRuntime
import XCTest

/// A message interrupt through the real root task: the manifest grants message interrupt 1 (interrupt number 25),
/// the component receives its semaphore with the assign right, assigns it (the kernel returns the message), programs
/// a simulated MSI device with it and is woken by the device's MSI. It then faults; the root task releases the
/// vector at teardown, so the restarted component can assign it again and gets the same message.
final class MessageInterruptBootTests: XCTestCase {
    final class Findings {
        var runs = 0
        var assigns: [Status] = []
        var messages: [MessageInterrupt] = []
        var downs: [Status] = []
        var otherVector: Status?
    }

    static let devicePort: UInt16 = 0x2000
    static let number = RootSelectors.lineCount + 1

    func driver(_ findings: Findings) -> SimProgram {
        SimProgram(name: "msidriver", main: { platform, rdi in
            let sys = SystemCalls(platform)
            guard let info = try? ComponentStartInfo.read(platform, at: ComponentStartInfo.address(entryArgument: rdi)),
                  let grant = info.interrupts.first else { return }
            findings.runs += 1
            let (status, message) = sys.assignMessageInterrupt(sm: grant.semaphore, number: grant.irq, requester: 0)
            findings.assigns.append(status)
            findings.messages.append(message)
            findings.otherVector = sys.assignMessageInterrupt(sm: grant.semaphore, number: grant.irq + 1, requester: 0).status
            // What the PCI driver would do: the message into the device's MSI registers, MSI on; then work.
            platform.portOut32(Self.devicePort, UInt32(truncatingIfNeeded: message.address))
            for i in 0..<2 { platform.portOut8(Self.devicePort + 4 + UInt16(i), UInt8(truncatingIfNeeded: message.data >> (8 * UInt64(i)))) }
            platform.portOut8(Self.devicePort + 6, 1)
            platform.portOut8(Self.devicePort + 7, 1)
            findings.downs.append(sys.down(sm: grant.semaphore, deadline: platform.timestamp() + 100_000))
            if findings.runs == 1 { _ = platform.load64(0) } // fault: the root task tears it down and restarts it
            let idle = ComponentSelectors.firstFree
            _ = sys.createSM(idle, count: 0)
            while sys.down(sm: idle) == .success {}
        })
    }

    func testTheDriverAssignsItsMessageInterruptAndAfterARestartAssignsItAgain() throws {
        let findings = Findings()
        let programs = SimBoot.components + [driver(findings)]
        let source = try SimBoot.example("minimal.toml").replacingOccurrences(of: "memory = 64M", with: "memory = 64M\ninterrupts = 56") + """

        [[component]]
        name = "msidriver"
        binary = "msidriver"
        memory = 64K
        io_ports = [[0x2000, 8]]
        interrupts = [\(Self.number)]
        restart_on_fault = true

        """
        let blob = try SimBoot.compile(source, knownBinaries: Set(programs.map(\.name)))
        let system = try SimBoot.system(manifest: blob, programs: programs)
        let device = SimMSIDevice(base: Self.devicePort, latency: 50)
        system.machine.attach(device)
        let stop = system.run(maxSteps: 800_000) { _ in findings.downs.count == 2 }
        XCTAssertEqual(stop, .condition, system.consoleText)
        XCTAssertEqual(findings.runs, 2, system.consoleText)
        XCTAssertEqual(findings.assigns, [.success, .success], "released at teardown, so assignable again")
        let expected = MessageInterrupt.x86(vector: SimMessageInterrupts.vectorBase + 1, apicID: 0)
        XCTAssertEqual(findings.messages, [expected, expected])
        XCTAssertEqual(findings.otherVector, .badRange, "its semaphore stands for one vector only")
        XCTAssertEqual(findings.downs, [.success, .success], "woken by the device's MSI, before and after the restart")
        XCTAssertEqual(device.sent, 2)
        XCTAssertEqual(device.outcomes, [.raised(index: 1), .raised(index: 1)])
        XCTAssertTrue(system.consoleText.contains("msidriver"), system.consoleText)
    }
}
