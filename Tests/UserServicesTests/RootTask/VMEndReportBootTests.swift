import KernelABI
import Sim
import UserRuntime
import XCTest

/// VM end reports (VMEndReport, RootTask/SupervisorVMReports.swift) from components that try every way to get
/// them wrong: the root task records one report per VM of a VMM and refuses the rest with the documented statuses
/// and a console line each; a component that runs no VMs is refused.
final class VMEndReportBootTests: XCTestCase {
    final class Seen { var statuses: [String: Status] = [:] }

    /// A VMM that runs no VM itself: it only reports, rightly once, then wrongly.
    func reporter(_ seen: Seen) -> SimProgram {
        SimProgram(name: "reporter", main: { platform, _ in
            let utcb = UTCB(platform: platform, base: ComponentLayout.utcb)
            seen.statuses["first"] = VMEndReport.send(utcb, vm: 1, how: .poweredOff)
            seen.statuses["again"] = VMEndReport.send(utcb, vm: 1, how: .reset)
            seen.statuses["other"] = VMEndReport.send(utcb, vm: 0, how: .reset)
            seen.statuses["unknown vm"] = VMEndReport.send(utcb, vm: 2, how: .stopped)
            // A kind that does not exist, and a report with a word missing, by hand.
            utcb.setMessage(untyped: [VMEndReport.request, 0, 99])
            _ = SystemCalls(platform).call(portal: ComponentSelectors.registration)
            seen.statuses["unknown kind"] = Status(rawValue: utcb.data(0))
            utcb.setMessage(untyped: [VMEndReport.request, 0])
            _ = SystemCalls(platform).call(portal: ComponentSelectors.registration)
            seen.statuses["short"] = Status(rawValue: utcb.data(0))
            _ = platform.load64(16) // done
        })
    }

    /// A provider (so it has the root request portal) that is no VMM.
    func provider(_ seen: Seen) -> SimProgram {
        SimProgram(name: "provider", main: { platform, _ in
            seen.statuses["not a VMM"] = VMEndReport.send(UTCB(platform: platform, base: ComponentLayout.utcb),
                                                          vm: 0, how: .poweredOff)
            _ = platform.load64(16) // done
        })
    }

    func testOneReportPerVMAndEveryWrongOneRefused() throws {
        let seen = Seen()
        let source = """
        [[component]]
        name = "provider"
        binary = "provider"
        memory = 256K

          [[component.provides]]
          name = "nothing"

        [[component]]
        name = "reporter"
        binary = "reporter"
        vmm = true
        memory = 4M

        [[vm]]
        name = "first"
        vmm = "reporter"
        test_image = "guest-test"
        memory = 1M

        [[vm]]
        name = "second"
        vmm = "reporter"
        test_image = "guest-test"
        memory = 1M
        """
        let blob = try SimBoot.compile(source, machineMemory: 64 << 20, knownBinaries: ["provider", "reporter", "guest-test"])
        let system = try SimBoot.system(manifest: blob, programs: [provider(seen), reporter(seen)],
                                        guests: ["guest-test"])
        let stop = system.run(maxSteps: 2_000_000) {
            $0.consoleText.contains("root: reporter stopped") && $0.consoleText.contains("root: provider stopped")
        }
        let console = system.consoleText
        XCTAssertEqual(stop, .condition, console)
        XCTAssertEqual(seen.statuses, ["first": .success, "again": .badState, "other": .success,
                                       "unknown vm": .badRange, "unknown kind": .badRange, "short": .badRange,
                                       "not a VMM": .badState], console)
        XCTAssertTrue(console.contains("root: reporter reports: VM second powered off\n"), console)
        XCTAssertTrue(console.contains("root: reporter reports: VM first reset itself\n"), console)
        XCTAssertTrue(console.contains("root: reporter reported the end of VM second twice\n"), console)
        XCTAssertTrue(console.contains("root: reporter sent a malformed VM end report (VM 2, how 3)\n"), console)
        XCTAssertTrue(console.contains("root: provider reported the end of a VM, but runs none\n"), console)
    }
}
