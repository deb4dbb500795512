import Foundation
import Sim
import UserRuntime
import VMM
import XCTest
@testable import Kernel

/// Tenants' guest memory is theirs alone, and a VMM that dies takes its VMs with it and comes back when asked.
final class VMMIsolationTests: XCTestCase {
    /// The PDs of each tenant in a booted two-tenant system: a VMM and the VM PDs it created.
    func tenants(_ system: SimSystem) -> [(vmm: ProtectionDomain, vms: [ProtectionDomain])] {
        let vms = system.kernel.protectionDomains.filter { $0.isVM }
        let vmms = Set(vms.compactMap { $0.creator.map(ObjectIdentifier.init) })
        return system.kernel.protectionDomains.filter { vmms.contains(ObjectIdentifier($0)) }.map { vmm in
            (vmm, vms.filter { $0.creator === vmm })
        }
    }

    /// Physical pages a PD can reach through its memory capabilities.
    func physicalPages(_ pd: ProtectionDomain) -> [(UInt64, UInt64)] {
        pd.space.memory.values.map { ($0.resourceKey, $0.resourceKey + $0.count) }
    }

    func testATenantsVMMCannotReachTheOtherTenantsGuestMemory() throws {
        let programs = SimBoot.components + [SimBoot.vmm]
        var names = Set(programs.map(\.name))
        names.insert("guest-test")
        let blob = try SimBoot.compile(try SimBoot.example("two-tenant.toml"), file: "two-tenant.toml",
                                       machineMemory: 512 << 20, knownBinaries: names)
        let system = try SimBoot.system(manifest: blob, programs: programs, guests: ["guest-test"], memorySize: 512 << 20)
        let stop = system.run(maxSteps: 3_000_000) { $0.serialText.components(separatedBy: "(pass)").count == 3 }
        XCTAssertEqual(stop, .condition, system.serialText)
        let both = tenants(system)
        XCTAssertEqual(both.count, 2)
        XCTAssertEqual(both.map { $0.vms.count }, [1, 1])
        for (i, tenant) in both.enumerated() {
            let other = both[1 - i]
            // Everything the other tenant's VM is made of (its guest RAM) ...
            let theirs = other.vms.flatMap(physicalPages)
            XCTAssertGreaterThan(theirs.reduce(0) { $0 + $1.1 - $1.0 }, 0)
            // ... is reachable by no capability of this tenant's VMM or VM, so it can neither read nor map it.
            for pd in [tenant.vmm] + tenant.vms {
                for (start, end) in physicalPages(pd) {
                    for (otherStart, otherEnd) in theirs {
                        XCTAssertFalse(start < otherEnd && otherStart < end,
                                       "\(pd.name) reaches physical pages of the other tenant's guest")
                    }
                }
                // And its page tables translate nothing into them (they map exactly what its capabilities say).
                XCTAssertEqual(system.kernel.invariantViolations(), [])
            }
        }
    }

    func testADeadVMMTakesItsVMsAndComesBackToBootThemAgain() throws {
        // vmm-a's first exit handler faults at its 10th exit (halfway through the guest's line): a VMM crash the root
        // task must clean up.
        final class Trigger: @unchecked Sendable { var calls = 0; var fired = false }
        let trigger = Trigger()
        let crashing = SimProgram(name: "vmm", entries: [{ p, rdi in vmmMain(p, startInfo: rdi) }]
            + (0..<8).map { h in { p, _ in
                if h == 0, !trigger.fired {
                    trigger.calls += 1
                    if trigger.calls == 10 {
                        trigger.fired = true
                        _ = p.load64(0x10)  // unmapped: the handler EC faults
                    }
                }
                vmmExitPortal(p, handler: h)
            } })
        let programs = SimBoot.components + [crashing]
        var names = Set(programs.map(\.name))
        names.insert("guest-test")
        let source = """
        [[component]]
        name = "serial"
        binary = "serial"
        memory = 1M
        io_ports = [[0x3f8, 8]]
          [[component.provides]]
          name = "log"
          kind = "log"
        [[component]]
        name = "vmm-a"
        binary = "vmm"
        vmm = true
        memory = 8M
        restart_on_fault = true
          [[component.uses]]
          name = "log"
          provider = "serial"
        [[vm]]
        name = "guest-a"
        vmm = "vmm-a"
        test_image = "guest-test"
        memory = 16M
        """
        let blob = try SimBoot.compile(source, file: "vmm-restart.toml", knownBinaries: names)
        let system = try SimBoot.system(manifest: blob, programs: programs, guests: ["guest-test"])
        let rootQuota = { system.kernel.rootPD!.quotaUsed }
        let first = system.run(maxSteps: 2_000_000) { $0.serialText.contains("vmm-a: running guest-a") }
        XCTAssertEqual(first, .condition, system.serialText)
        let quotaWithVMM = rootQuota()
        XCTAssertEqual(tenants(system).first?.vms.count, 1)
        let restarted = system.run(maxSteps: 3_000_000) {
            $0.serialText.contains("guest-a stopped: exited through the debug-exit port with status 0x10 (pass)")
        }
        XCTAssertEqual(restarted, .condition, system.consoleText + system.serialText)
        XCTAssertEqual(system.serialText.components(separatedBy: "guest-a: guest-test: hello from the guest").count, 2,
                       "the line is printed whole once, by the second incarnation")
        XCTAssertTrue(trigger.fired)
        XCTAssertTrue(system.consoleText.contains("root: vmm-a faulted: page fault"), system.consoleText)
        XCTAssertTrue(system.consoleText.contains("root: restarting vmm-a (restart 1 of 3)"), system.consoleText)
        // The dead incarnation's VM went with it: one VM PD again, the quota back where it was.
        XCTAssertEqual(system.kernel.protectionDomains.filter { $0.isVM }.count, 1)
        XCTAssertEqual(rootQuota(), quotaWithVMM)
        XCTAssertEqual(system.kernel.invariantViolations(), [])
    }
}
