import KernelABI
import SerialDriver
import Sim
import UserRuntime
import XCTest

/// A provider that faults and is restarted registers its service again, and the root task hands the new portal to
/// the users that are still running, at the selector they already know.
final class ProviderRestartBootTests: XCTestCase {
    final class Counter { var incarnations = 0 }

    /// Registers a "log" service served by the serial driver's handler; its first incarnation then faults.
    func flaky(_ counter: Counter) -> SimProgram {
        SimProgram(name: "flaky", entries: [
            { platform, rdi in
                counter.incarnations += 1
                let sys = SystemCalls(platform)
                let info = try! ComponentStartInfo.read(platform, at: ComponentStartInfo.address(entryArgument: rdi))
                let service = info.providedService(named: "log")!
                UART16550(platform: platform, base: 0x3f8).initialize()
                let handler = EntryTable.address(entry: info.entry, slot: 1)
                let ec = ComponentSelectors.firstFree, pt = ComponentSelectors.firstFree + 1
                XCTAssertEqual(sys.createEC(ec, pd: ComponentSelectors.ownPD, utcb: ComponentLayout.firstFreeUTCB,
                                            stackPointer: info.heapBase + info.heapSize, entry: handler, global: false,
                                            eventBase: ComponentSelectors.eventBase), .success)
                XCTAssertEqual(sys.createPT(pt, ec: ec, entry: handler, portalID: service.id), .success)
                XCTAssertEqual(ServiceRegistration.register(UTCB(platform: platform, base: ComponentLayout.utcb),
                                                            serviceID: service.id, landing: service.landing, portal: pt),
                               .success)
                if counter.incarnations == 1 {
                    platform.compute(ticks: 50_000)
                    _ = platform.load64(8) // fault
                }
                _ = sys.createSM(ComponentSelectors.firstFree + 2, count: 0)
                while sys.down(sm: ComponentSelectors.firstFree + 2) == .success {}
            },
            { platform, rdi in serialLogPortal(platform, startInfo: rdi) },
        ])
    }

    /// Logs one line, waits long enough for the provider to die and come back, logs another.
    let chatter = SimProgram(name: "chatter", main: { platform, rdi in
        let info = try! ComponentStartInfo.read(platform, at: ComponentStartInfo.address(entryArgument: rdi))
        let log = LogClient(utcb: UTCB(platform: platform, base: ComponentLayout.utcb),
                            portal: info.portal(forService: "log")!)
        XCTAssertEqual(log.write("chatter: before\n"), .success)
        platform.compute(ticks: 400_000)
        let status = log.write("chatter: after\n")
        XCTAssertEqual(status, .success)
        _ = platform.load64(16) // done
    })

    func testUsersAreReconnectedToARestartedProvider() throws {
        let counter = Counter()
        let flaky = flaky(counter)
        let source = """
        [[component]]
        name = "flaky"
        binary = "flaky"
        memory = 256K
        io_ports = [[0x3f8, 8]]
        restart_on_fault = true

          [[component.provides]]
          name = "log"

        [[component]]
        name = "chatter"
        binary = "chatter"
        memory = 256K

          [[component.uses]]
          name = "log"
          provider = "flaky"
        """
        let blob = try SimBoot.compile(source, knownBinaries: ["flaky", "chatter"])
        let system = try SimBoot.system(manifest: blob, programs: [flaky, chatter])
        let stop = system.run(maxSteps: 2_000_000) { $0.consoleText.contains("root: chatter stopped") }
        XCTAssertEqual(stop, .condition, system.consoleText)
        XCTAssertEqual(counter.incarnations, 2)
        XCTAssertTrue(system.consoleText.contains("root: flaky faulted: page fault (vector 14)"), system.consoleText)
        XCTAssertTrue(system.consoleText.contains("root: restarting flaky (restart 1 of 3)"))
        XCTAssertTrue(system.consoleText.contains("root: reconnected chatter to flaky's log"), system.consoleText)
        XCTAssertEqual(system.serialText, "chatter: before\nchatter: after\n")
    }
}
