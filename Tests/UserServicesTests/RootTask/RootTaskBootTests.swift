import KernelABI
import Sim
import XCTest

/// The real root task on the real kernel in the simulator, building the systems of example manifests.
final class RootTaskBootTests: XCTestCase {
    /// minimal.toml plus an intruder that uses the log service; `restart` sets its restart_on_fault.
    func manifestWithIntruder(restart: Bool) throws -> String {
        try SimBoot.example("minimal.toml") + """

        [[component]]
        name = "intruder"
        binary = "intruder"
        memory = 512K
        restart_on_fault = \(restart)

          [[component.uses]]
          name = "log"
          provider = "serial"

        """
    }

    func testMinimalStartsComponentsInOrderAndHelloPrintsThroughTheSerialDriver() throws {
        let system = try SimBoot.system(manifest: try SimBoot.compile(try SimBoot.example("minimal.toml"),
                                                                      file: "minimal.toml"))
        let stop = system.run(maxSteps: 200_000) { $0.serialText.contains("\n") }
        XCTAssertEqual(stop, .condition, "console:\n\(system.consoleText)")
        XCTAssertEqual(system.serialText, "hello: Hello from a component, printed by the serial driver\n")
        let lines = system.consoleText.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.filter { $0.hasPrefix("root:") }, [
            "root: manifest ok: 2 components, 0 VMs",
            "root: started serial (binary serial, priority 20, budget 10 ms, 43 pages)",
            "root: serial registered service log",
            "root: started hello (binary hello, priority 10, budget 10 ms, 43 pages)",
            "root: all components started",
        ])
    }

    func testIntruderGetsACleanErrorThenFaultsAndIsNotRestartedWhenTheManifestDoesNotAsk() throws {
        let system = try SimBoot.system(manifest: try SimBoot.compile(try manifestWithIntruder(restart: false)))
        let stop = system.run(maxSteps: 400_000) { $0.consoleText.contains("root: intruder stopped") }
        XCTAssertEqual(stop, .condition, "console:\n\(system.consoleText)\nserial:\n\(system.serialText)")
        XCTAssertTrue(system.serialText.contains("intruder: call to ungranted selector 356 returned: bad selector\n"),
                      system.serialText)
        XCTAssertTrue(system.serialText.contains("intruder: writing ungranted I/O port 128\n"), system.serialText)
        XCTAssertFalse(system.serialText.contains("did not fault"))
        XCTAssertTrue(system.consoleText.contains("root: intruder faulted: general protection fault (vector 13)"),
                      system.consoleText)
        XCTAssertTrue(system.consoleText.contains("root: intruder stopped (the manifest does not ask for restarts)"))
        XCTAssertFalse(system.consoleText.contains("root: restarting intruder"))
        // Nothing else runs the intruder again: the system goes quiet.
        XCTAssertEqual(system.run(maxSteps: 100_000), .idle)
        XCTAssertEqual(system.consoleText.components(separatedBy: "root: intruder faulted").count - 1, 1)
    }

    func testFaultingComponentIsRestartedWhenAskedUpToTheLimit() throws {
        let system = try SimBoot.system(manifest: try SimBoot.compile(try manifestWithIntruder(restart: true)))
        let stop = system.run(maxSteps: 2_000_000) { $0.consoleText.contains("root: intruder stopped") }
        XCTAssertEqual(stop, .condition, "console:\n\(system.consoleText)")
        let console = system.consoleText
        for n in 1...3 { XCTAssertTrue(console.contains("root: restarting intruder (restart \(n) of 3)"), console) }
        XCTAssertEqual(console.components(separatedBy: "root: intruder faulted").count - 1, 4)
        XCTAssertEqual(console.components(separatedBy: "root: started intruder").count - 1, 4)
        XCTAssertTrue(console.contains("root: intruder stopped (restarted 3 times already)"))
        // Each incarnation got its clean error through the log service again.
        XCTAssertEqual(system.serialText.components(separatedBy: "returned: bad selector").count - 1, 4)
        XCTAssertEqual(system.run(maxSteps: 100_000), .idle)
    }

    func testAComponentThatCannotBeBuiltIsReportedAndItsUsersAreNotStarted() throws {
        let source = try SimBoot.example("minimal.toml").replacingOccurrences(of: "memory = 1M", with: "memory = 16K")
        let system = try SimBoot.system(manifest: try SimBoot.compile(source))
        XCTAssertEqual(system.run(maxSteps: 200_000), .idle)
        let lines = system.consoleText.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.filter { $0.hasPrefix("root:") }, [
            "root: manifest ok: 2 components, 0 VMs",
            "root: cannot start serial: component serial: needs 11 pages but its memory quota is 4 pages",
            "root: not starting hello: serial, which it needs, is not running",
            "root: all components started",
        ])
    }

    func testCorruptManifestHaltsCleanlyWithAClearMessage() throws {
        var blob = try SimBoot.compile(try SimBoot.example("minimal.toml"))
        blob[blob.count / 2] ^= 0xff
        let system = try SimBoot.system(manifest: blob)
        XCTAssertEqual(system.run(maxSteps: 100_000), .idle)
        XCTAssertTrue(system.consoleText.contains("root: error: compiled manifest rejected: "), system.consoleText)
        XCTAssertTrue(system.consoleText.hasSuffix("root: halted\n"), system.consoleText)
        XCTAssertFalse(system.consoleText.contains("root: started"))
        XCTAssertFalse(system.consoleText.contains("fault"))
    }

    func testTruncatedManifestHaltsCleanlyWithAClearMessage() throws {
        let blob = try SimBoot.compile(try SimBoot.example("minimal.toml"))
        let system = try SimBoot.system(manifest: Array(blob.prefix(blob.count - 10)))
        XCTAssertEqual(system.run(maxSteps: 100_000), .idle)
        XCTAssertTrue(system.consoleText.contains("root: error: compiled manifest rejected: "), system.consoleText)
        XCTAssertTrue(system.consoleText.hasSuffix("root: halted\n"), system.consoleText)
    }

    func testMissingManifestModuleHaltsCleanly() throws {
        let system = try SimSystem(root: SimBoot.root, programs: SimBoot.components)
        XCTAssertEqual(system.run(maxSteps: 100_000), .idle)
        XCTAssertTrue(system.consoleText.contains("root: error: boot bundle has no module \"manifest\""),
                      system.consoleText)
        XCTAssertTrue(system.consoleText.hasSuffix("root: halted\n"))
    }
}
