import KernelABI
import Sim
import UserRuntime
import XCTest

/// A component sees exactly what its manifest entry grants: it asks the kernel (`lookup`) about every selector,
/// port and page that matters, from inside the simulated system.
final class CapabilityGrantBootTests: XCTestCase {
    /// What the probe found: key -> the CRD the kernel reported (kind null when the slot is empty).
    final class Findings {
        var values: [String: CapabilityRange] = [:]
    }

    func probe(_ findings: Findings) -> SimProgram {
        SimProgram(name: "probe", main: { platform, _ in
            let sys = SystemCalls(platform)
            func look(_ key: String, _ kind: CapabilityRange.Kind, _ base: UInt64) {
                let (status, found) = sys.lookup(CapabilityRange(kind: kind, base: base, permissions: 0))
                findings.values[key] = status == .success ? (found ?? .null) : nil
            }
            look("own pd", .object, ComponentSelectors.ownPD)
            look("page fault portal", .object, ComponentSelectors.eventBase + Event.pageFault)
            look("startup portal", .object, ComponentSelectors.eventBase + Event.startup)
            look("registration", .object, ComponentSelectors.registration)
            look("log", .object, ComponentSelectors.firstService)
            look("second service", .object, ComponentSelectors.firstService + 1)
            look("irq 3", .object, ComponentSelectors.firstInterrupt)
            look("second irq", .object, ComponentSelectors.firstInterrupt + 1)
            look("root irq 4 selector", .object, RootSelectors.interruptBase + 4)
            for port: UInt64 in [0x2f7, 0x2f8, 0x2ff, 0x300, 0x3f8] { look("port \(port)", .io, port) }
            look("start info", .memory, ComponentLayout.startInfo >> 12)
            look("stack", .memory, (ComponentLayout.stackTop >> 12) - 1)
            look("below stack", .memory, (ComponentLayout.stackTop >> 12) - ComponentLayout.stackPages - 1)
            look("code", .memory, AddressLayout.imageBase >> 12)
            look("bss", .memory, (AddressLayout.imageBase >> 12) + 1)
            look("heap", .memory, ComponentLayout.heapBase >> 12)
            look("physical window", .memory, AddressLayout.physicalWindow >> 12 + 0x200)
            findings.values["done"] = .null
            _ = platform.load64(0) // done: fault, so the root reports it and the test stops there
        })
    }

    func testComponentHoldsExactlyWhatTheManifestGrants() throws {
        let findings = Findings()
        let source = try SimBoot.example("minimal.toml") + """

        [[component]]
        name = "probe"
        binary = "probe"
        memory = 64K
        io_ports = [[0x2f8, 8]]
        interrupts = [3]

          [[component.uses]]
          name = "log"
          provider = "serial"

        """
        let probe = probe(findings)
        let names = Set((SimBoot.components + [probe]).map(\.name))
        let blob = try SimBoot.compile(source, knownBinaries: names)
        let system = try SimBoot.system(manifest: blob, programs: SimBoot.components + [probe])
        let stop = system.run(maxSteps: 400_000) { $0.consoleText.contains("root: probe stopped") }
        XCTAssertEqual(stop, .condition, system.consoleText)
        let f = findings.values
        func kind(_ key: String) -> CapabilityRange.Kind? { f[key]?.kind }
        XCTAssertEqual(f["own pd"]?.permissions, Permissions.pdCreate)
        XCTAssertEqual(f["page fault portal"]?.permissions, Permissions.ptCall)
        XCTAssertEqual(kind("startup portal"), .null)
        XCTAssertEqual(kind("registration"), .null, "probe provides nothing")
        XCTAssertEqual(f["log"]?.permissions, Permissions.ptCall)
        XCTAssertEqual(kind("second service"), .null)
        XCTAssertEqual(f["irq 3"]?.permissions, Permissions.smDown)
        XCTAssertEqual(kind("second irq"), .null)
        XCTAssertEqual(kind("root irq 4 selector"), .null)
        XCTAssertEqual(kind("port \(0x2f7)"), .null)
        XCTAssertEqual(f["port \(0x2f8)"]?.permissions, Permissions.ioAccess)
        XCTAssertEqual(kind("port \(0x2ff)"), .io)
        XCTAssertEqual(kind("port \(0x300)"), .null)
        XCTAssertEqual(kind("port \(0x3f8)"), .null, "COM1 belongs to the serial driver")
        XCTAssertEqual(f["start info"]?.permissions, Permissions.read)
        XCTAssertEqual(f["stack"]?.permissions, Permissions.read | Permissions.write)
        XCTAssertEqual(kind("below stack"), .null)
        XCTAssertEqual(f["code"]?.permissions, Permissions.read | Permissions.execute)
        XCTAssertEqual(f["bss"]?.permissions, Permissions.read | Permissions.write)
        XCTAssertEqual(f["heap"]?.permissions, Permissions.read | Permissions.write)
        XCTAssertEqual(kind("physical window"), .null)
        XCTAssertNotNil(f["done"])
    }
}
