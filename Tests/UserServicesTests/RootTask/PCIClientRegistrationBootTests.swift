import KernelABI
import PCIBus
import Sim
import UserRuntime
import XCTest

/// The root task's side of per-client portals (kind "pci"): a provider that registers a client that does not
/// exist, at the wrong landing selector, without the client word, or twice, gets a clear refusal; the one right
/// registration reaches exactly that client.
final class PCIClientRegistrationBootTests: XCTestCase {
    final class Findings {
        var statuses: [Status] = []
        var clientPortal: UInt64?
        var clientSaw: CapabilityRange?
        var done = false
    }

    func provider(_ findings: Findings) -> SimProgram {
        SimProgram(name: "fakepci", entries: [
            { platform, rdi in
                let sys = SystemCalls(platform)
                let utcb = UTCB(platform: platform, base: ComponentLayout.utcb)
                guard let info = try? ComponentStartInfo.read(platform, at: ComponentStartInfo.address(entryArgument: rdi)),
                      let service = info.providedService(named: "pci"),
                      let table = PCIClientTable.read({ platform.load64(PCIClientTable.address + UInt64($0) * 8) }),
                      let client = table.first else { return }
                let handler = EntryTable.address(entry: info.entry, slot: 1)
                let ec = ComponentSelectors.firstFree, portal = ec + 1, second = ec + 2
                _ = sys.createEC(ec, pd: ComponentSelectors.ownPD, utcb: ComponentLayout.firstFreeUTCB,
                                 stackPointer: info.heapBase + info.heapSize, entry: handler, global: false,
                                 eventBase: ComponentSelectors.eventBase)
                _ = sys.createPT(portal, ec: ec, entry: handler, portalID: 0)
                _ = sys.createPT(second, ec: ec, entry: handler, portalID: 1)
                findings.statuses.append(PCIClientPortal.register(utcb, serviceID: service.id, client: 5,
                                                                  landing: client.landing, portal: portal))
                findings.statuses.append(PCIClientPortal.register(utcb, serviceID: service.id, client: 0,
                                                                  landing: client.landing + 1, portal: portal))
                findings.statuses.append(ServiceRegistration.register(utcb, serviceID: service.id,
                                                                      landing: client.landing, portal: portal))
                findings.statuses.append(PCIClientPortal.register(utcb, serviceID: service.id, client: 0,
                                                                  landing: client.landing, portal: portal))
                findings.statuses.append(PCIClientPortal.register(utcb, serviceID: service.id, client: 0,
                                                                  landing: client.landing, portal: second))
                findings.done = true
                _ = sys.createSM(ec + 3, count: 0)
                while sys.down(sm: ec + 3) == .success {}
            },
            { platform, _ in
                let utcb = UTCB(platform: platform, base: ComponentLayout.firstFreeUTCB)
                while true {
                    utcb.setMessage(untyped: [Status.success.rawValue, 0])
                    _ = SystemCalls(platform).reply()
                }
            },
        ])
    }

    func client(_ findings: Findings) -> SimProgram {
        SimProgram(name: "client", main: { platform, rdi in
            let sys = SystemCalls(platform)
            guard let info = try? ComponentStartInfo.read(platform, at: ComponentStartInfo.address(entryArgument: rdi)),
                  let portal = info.portal(forService: "pci") else { return }
            findings.clientPortal = portal
            findings.clientSaw = sys.lookup(CapabilityRange(kind: .object, base: portal, permissions: 0)).found
            _ = sys.createSM(ComponentSelectors.firstFree, count: 0)
            while sys.down(sm: ComponentSelectors.firstFree) == .success {}
        })
    }

    func testBadRegistrationsAreRefusedAndTheRightOneReachesItsClient() throws {
        let findings = Findings()
        let programs = SimBoot.components + [provider(findings), client(findings)]
        let source = try SimBoot.example("minimal.toml") + """

        [[component]]
        name = "fakepci"
        binary = "fakepci"
        memory = 256K

          [[component.provides]]
          name = "pci"

        [[component]]
        name = "client"
        binary = "client"
        memory = 256K

          [[component.uses]]
          name = "pci"

        """
        let blob = try SimBoot.compile(source, knownBinaries: Set(programs.map(\.name)))
        let system = try SimBoot.system(manifest: blob, programs: programs)
        let stop = system.run(maxSteps: 2_000_000) { _ in findings.done && findings.clientSaw != nil }
        XCTAssertEqual(stop, .condition, system.consoleText)
        XCTAssertEqual(findings.statuses.count, 5)
        XCTAssertEqual(Array(findings.statuses.prefix(4)), [.badRange, .badRange, .badRange, .success])
        XCTAssertNotEqual(findings.statuses.last, .success, "a second portal for the same client is refused")
        let console = system.consoleText
        for line in ["root: fakepci registered a portal of service pci for client 5, but it has 1 clients",
                     "root: fakepci registered client 0 of service pci at the wrong selector",
                     "root: fakepci registered a portal of service pci without the client word (word 1 = client index + 1), but it has 1 clients",
                     "root: fakepci registered service pci for client"] {
            XCTAssertTrue(console.contains(line), "missing \(line) in\n\(console)")
        }
        XCTAssertEqual(findings.clientSaw?.kind, .object, "the client holds the portal registered for it")
        XCTAssertFalse(console.contains("faulted"), console)
    }
}
