import KernelABI
import Sim
import UserRuntime
import XCTest

/// Device interrupts reach exactly the component whose manifest grants the line: the root task assigns the line to
/// its interrupt semaphore before delegating it, a second 16550 (COM2, irq 3) raises the interrupt on receive, and
/// the granted component's `down` returns; a component without the grant holds no semaphore and cannot assign one.
final class InterruptGrantBootTests: XCTestCase {
    /// What the simulated components saw (they run one at a time, so plain fields are enough).
    final class Findings {
        var grants: [ComponentStartInfo.InterruptGrant] = []
        var listenerReady = false
        var downs: [Status] = []
        var received: [UInt8] = []
        var bystanderDown: Status?
        var bystanderAssign: Status?
    }

    static let com2Base: UInt16 = 0x2f8
    static let com2IRQ: UInt64 = 3

    /// Enables COM2's receive interrupt, then waits on its interrupt semaphore twice, reading one byte per wake-up.
    func listener(_ findings: Findings) -> SimProgram {
        SimProgram(name: "listener", main: { platform, rdi in
            let sys = SystemCalls(platform)
            guard let info = try? ComponentStartInfo.read(platform, at: ComponentStartInfo.address(entryArgument: rdi)),
                  let grant = info.interrupts.first else { return }
            findings.grants = info.interrupts
            platform.portOut8(Self.com2Base + 1, 0x01) // IER: interrupt when received data waits
            findings.listenerReady = true
            for _ in 0..<2 {
                let status = sys.down(sm: grant.semaphore)
                findings.downs.append(status)
                guard status == .success else { return }
                findings.received.append(platform.portIn8(Self.com2Base))
            }
            let idle = ComponentSelectors.firstFree
            _ = sys.createSM(idle, count: 0)
            while sys.down(sm: idle) == .success {}
        })
    }

    /// Holds no interrupt grant: tries the selector a grant would use, and the root's own interrupt selector.
    func bystander(_ findings: Findings) -> SimProgram {
        SimProgram(name: "bystander", main: { platform, _ in
            let sys = SystemCalls(platform)
            findings.bystanderDown = sys.down(sm: ComponentSelectors.firstInterrupt, deadline: platform.timestamp() + 10)
            findings.bystanderAssign = sys.assignInterrupt(sm: RootSelectors.interruptBase + Self.com2IRQ,
                                                           irq: Self.com2IRQ)
            let idle = ComponentSelectors.firstFree
            _ = sys.createSM(idle, count: 0)
            while sys.down(sm: idle) == .success {}
        })
    }

    static let manifestTail = """

    [[component]]
    name = "listener"
    binary = "listener"
    memory = 64K
    io_ports = [[0x2f8, 8]]    # COM2
    interrupts = [3]

    [[component]]
    name = "bystander"
    binary = "bystander"
    memory = 64K

    """

    func boot(_ findings: Findings) throws -> (SimSystem, SimSerial16550) {
        let programs = SimBoot.components + [listener(findings), bystander(findings)]
        let blob = try SimBoot.compile(try SimBoot.example("minimal.toml") + Self.manifestTail,
                                       knownBinaries: Set(programs.map(\.name)))
        let system = try SimBoot.system(manifest: blob, programs: programs)
        // COM2 on an ISA line: the IOAPIC sees edges, as on the image.
        let com2 = SimSerial16550(base: Self.com2Base, irq: Self.com2IRQ, edgeTriggered: true)
        system.machine.attach(com2)
        return (system, com2)
    }

    func testGrantedInterruptWakesTheComponentAndOnlyGrantedLinesAreUnmasked() throws {
        let findings = Findings()
        let (system, com2) = try boot(findings)
        let booted = system.run(maxSteps: 400_000) {
            $0.consoleText.contains("root: all components started") && findings.listenerReady
                && findings.bystanderAssign != nil
        }
        XCTAssertEqual(booted, .condition, system.consoleText)
        XCTAssertEqual(findings.grants, [.init(irq: 3, semaphore: ComponentSelectors.firstInterrupt)])

        let interrupts = system.machine.interrupts
        XCTAssertFalse(interrupts.isMasked(3), "the listener's line is assigned")
        XCTAssertFalse(interrupts.isMasked(4), "the serial driver's line is assigned")
        for irq: UInt64 in [0, 1, 2, 5, 8, 23] { XCTAssertTrue(interrupts.isMasked(irq), "nobody was granted irq \(irq)") }

        // Nothing arrives, so nothing wakes the listener: the system goes idle with the listener still waiting.
        XCTAssertEqual(system.run(maxSteps: 400_000), .idle, system.consoleText)
        XCTAssertEqual(findings.downs, [])

        com2.receive([0x41], machine: system.machine)
        XCTAssertEqual(system.run(maxSteps: 100_000) { _ in findings.received.count == 1 }, .condition)
        com2.receive([0x42], machine: system.machine)
        XCTAssertEqual(system.run(maxSteps: 100_000) { _ in findings.received.count == 2 }, .condition)
        XCTAssertEqual(findings.downs, [.success, .success])
        XCTAssertEqual(findings.received, [0x41, 0x42])

        XCTAssertEqual(findings.bystanderDown, .badSelector, "no interrupt semaphore without a grant")
        XCTAssertEqual(findings.bystanderAssign, .badSelector, "the root's interrupt semaphores are not reachable")
        XCTAssertFalse(system.consoleText.contains("faulted"), system.consoleText)
    }

    func testUnassignableLineIsReportedWithComponentAndIRQ() throws {
        // The manifest's machine has 64 interrupts, the kernel 24 lines and 32 message interrupts: the root holds no
        // semaphore for irq 60.
        let source = try SimBoot.example("minimal.toml").replacingOccurrences(of: "memory = 64M", with: "memory = 64M\ninterrupts = 64") + """

        [[component]]
        name = "farline"
        binary = "hello"
        memory = 64K
        interrupts = [60]

        """
        let blob = try SimBoot.compile(source)
        let system = try SimBoot.system(manifest: blob)
        let stop = system.run(maxSteps: 400_000) { $0.consoleText.contains("root: all components started") }
        XCTAssertEqual(stop, .condition, system.consoleText)
        XCTAssertTrue(system.consoleText.contains("root: cannot start farline: component farline: assigning irq 60 failed: bad selector"),
                      system.consoleText)
        XCTAssertFalse(system.consoleText.contains("root: started farline"), system.consoleText)
    }
}
