import Sim
import XCTest

/// The test guests (VMM/Guests, examples/vm-tests.toml) under the real VMM on the simulator: every guest's lines,
/// per VM in order, are exactly VMM/Guests/vm-tests.expected (which the image must print too: ImageTests).
final class VMGuestTests: XCTestCase {
    func testEveryTestGuestGivesItsDocumentedLines() throws {
        let programs = SimBoot.components + [SimBoot.vmm]
        var names = Set(programs.map(\.name))
        names.formUnion(VMGuestResults.modules)
        let blob = try SimBoot.compile(try SimBoot.example("vm-tests.toml"), file: "vm-tests.toml",
                                       machineMemory: 512 << 20, knownBinaries: names)
        let system = try SimBoot.system(manifest: blob, programs: programs, guests: VMGuestResults.modules,
                                        memorySize: 512 << 20)
        // Every VM ends (each guest stops through the debug-exit port or a fault its VMM reports), and each VMM
        // tells the root task (VMEndReport), which prints it through the VMM's log service.
        let stop = system.run(maxSteps: 20_000_000) {
            $0.serialText.components(separatedBy: " reports: VM ").count > VMGuestResults.guests.count
        }
        XCTAssertEqual(stop, .condition, system.consoleText + system.serialText)
        let results = VMGuestResults.lines(fromLog: system.serialText)
        let expected = VMGuestResults.expected
        XCTAssertEqual(expected.count, VMGuestResults.guests.count, "every VM has expected lines")
        for (vm, expected) in expected {
            XCTAssertEqual(results[vm] ?? [], expected, "VM \(vm)")
        }
        XCTAssertFalse(system.serialText.contains("FAIL"), system.serialText)
        for vm in expected.keys {
            XCTAssertTrue(system.serialText.contains(" reports: VM \(vm) was stopped by its VMM\n"),
                          "root task not told of \(vm):\n" + system.serialText)
        }
        XCTAssertFalse(system.consoleText.contains("malformed VM end report"), system.consoleText)
        XCTAssertFalse(system.consoleText.contains("twice"), system.consoleText)
    }
}

/// What each test VM must print, and how to pick those lines out of a log.
enum VMGuestResults {
    static let guests = ["guest-cpuid", "guest-io", "guest-hlt", "guest-pagefault", "guest-inject", "guest-invalid",
                         "guest-unmapped", "guest-triplefault", "guest-storm", "guest-cr4", "guest-multiboot",
                         "guest-control"]
    /// Every module the manifest names: the guests and guest-multiboot's initrd.
    static var modules: [String] { guests + ["guest-test"] }
    /// VMM/Guests/vm-tests.expected: "<vm>: <line>" in order per VM (the image's test reads the same file).
    static var expected: [String: [String]] {
        let url = SimBoot.repositoryRoot().appendingPathComponent("VMM/Guests/vm-tests.expected")
        var result: [String: [String]] = [:]
        for line in (try? String(contentsOf: url, encoding: .utf8))?.split(separator: "\n") ?? [] where !line.hasPrefix("#") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            result[String(line[..<colon]), default: []].append(String(line[line.index(colon, offsetBy: 2)...]))
        }
        return result
    }

    /// Per VM, its console lines ("<vmm>: <vm>: <line>") and the VMM's stop report ("<vmm>: <vm> stopped: ...",
    /// cut before the exit number and rip, which differ between machines), in log order.
    static func lines(fromLog log: String) -> [String: [String]] {
        var result: [String: [String]] = [:]
        for raw in log.split(separator: "\n") {
            let line = raw.replacingOccurrences(of: "\r", with: "")
            let parts = line.split(separator: " ", maxSplits: 2).map(String.init)
            guard parts.count == 3, parts[0].hasPrefix("vmm-") else { continue }
            if parts[1].hasSuffix(":") {
                result[String(parts[1].dropLast()), default: []].append(parts[2])
            } else if parts[2].hasPrefix("stopped: ") {
                let report = parts[2].components(separatedBy: " (exit ").first ?? parts[2]
                result[parts[1], default: []].append(report)
            }
        }
        return result
    }
}
