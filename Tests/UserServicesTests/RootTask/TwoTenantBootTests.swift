import Sim
import XCTest

/// examples/two-tenant.toml on the simulator: two VMM components (the placeholder "vmm" binary, which says what it
/// would run), hello after both VMMs, and an intruder that was given only the log service.
final class TwoTenantBootTests: XCTestCase {
    func testTwoTenantsStartInDependencyOrderAndTheIntruderIsContained() throws {
        let programs = SimBoot.components + [SimBoot.vmm]
        var names = Set(programs.map(\.name))
        names.insert("guest-test")
        let blob = try SimBoot.compile(try SimBoot.example("two-tenant.toml"), file: "two-tenant.toml",
                                       machineMemory: 512 << 20, knownBinaries: names)
        let system = try SimBoot.system(manifest: blob, programs: programs, memorySize: 512 << 20)
        let stop = system.run(maxSteps: 3_000_000) { $0.consoleText.contains("root: intruder stopped") }
        XCTAssertEqual(stop, .condition, system.consoleText)
        let started = system.consoleText.split(separator: "\n").filter { $0.hasPrefix("root: started ") }
            .map { $0.split(separator: " ")[2] }
        XCTAssertEqual(started, ["serial", "vmm-a", "vmm-b", "hello", "intruder"])
        XCTAssertTrue(system.serialText.contains(
            "vmm-a: would run guest-a (image guest-test, 64 MiB, 1 vCPU); no VM runs yet: the VMM lands with the virtualization issues\n"),
            system.serialText)
        XCTAssertTrue(system.serialText.contains(
            "vmm-b: would run guest-b (image guest-test, 128 MiB, 2 vCPUs, nested); no VM runs yet: the VMM lands with the virtualization issues\n"))
        XCTAssertTrue(system.serialText.contains("hello: Hello from a component, printed by the serial driver\n"))
        // The intruder's call through a selector it was never given gets a clean error; its port write faults,
        // the fault is reported and it stays down.
        XCTAssertTrue(system.serialText.contains("intruder: call to ungranted selector 356 returned: bad selector\n"),
                      system.serialText)
        XCTAssertTrue(system.consoleText.contains("root: intruder faulted: general protection fault (vector 13)"))
        XCTAssertTrue(system.consoleText.contains("root: intruder stopped (the manifest does not ask for restarts)"))
    }
}
