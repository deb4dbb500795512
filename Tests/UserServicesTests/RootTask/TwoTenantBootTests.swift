import Sim
import XCTest

/// examples/two-tenant.toml on the simulator: two VMM components, each running its tenant's VM (guest-test prints a
/// line through the VMM's COM1 and exits through the debug-exit port), hello after both VMMs, and an intruder that was
/// given only the log service.
final class TwoTenantBootTests: XCTestCase {
    func testTwoTenantsStartInDependencyOrderAndTheIntruderIsContained() throws {
        let programs = SimBoot.components + [SimBoot.vmm]
        var names = Set(programs.map(\.name))
        names.insert("guest-test")
        let blob = try SimBoot.compile(try SimBoot.example("two-tenant.toml"), file: "two-tenant.toml",
                                       machineMemory: 512 << 20, knownBinaries: names)
        let system = try SimBoot.system(manifest: blob, programs: programs, guests: ["guest-test"], memorySize: 512 << 20)
        let stop = system.run(maxSteps: 3_000_000) {
            $0.consoleText.contains("root: intruder stopped") && $0.serialText.components(separatedBy: "(pass)").count == 3
        }
        XCTAssertEqual(stop, .condition, system.consoleText + system.serialText)
        let started = system.consoleText.split(separator: "\n").filter { $0.hasPrefix("root: started ") }
            .map { $0.split(separator: " ")[2] }
        XCTAssertEqual(started, ["serial", "vmm-a", "vmm-b", "hello", "intruder"])
        for (vmm, vm, size) in [("vmm-a", "guest-a", "64 MiB, 1 vCPU"), ("vmm-b", "guest-b", "128 MiB, 2 vCPUs")] {
            XCTAssertTrue(system.serialText.contains("\(vmm): running \(vm) (\(size))\n"), system.serialText)
            XCTAssertTrue(system.serialText.contains("\(vmm): \(vm): guest-test: hello from the guest\n"), system.serialText)
            XCTAssertTrue(system.serialText.contains("\(vmm): \(vm) stopped: exited through the debug-exit port with status 0x10 (pass)"),
                          system.serialText)
        }
        XCTAssertTrue(system.serialText.contains("hello: Hello from a component, printed by the serial driver\n"))
        // The intruder's call through a selector it was never given gets a clean error; its port write faults,
        // the fault is reported and it stays down.
        XCTAssertTrue(system.serialText.contains("intruder: call to ungranted selector 356 returned: bad selector\n"),
                      system.serialText)
        XCTAssertTrue(system.consoleText.contains("root: intruder faulted: general protection fault (vector 13)"))
        XCTAssertTrue(system.consoleText.contains("root: intruder stopped (the manifest does not ask for restarts)"))
    }
}
