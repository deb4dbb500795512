import Sim
import XCTest

/// The test guests (VMM/Guests, examples/vm-tests.toml) under the real VMM on the simulator: every guest's lines,
/// per VM in order, are exactly the expected ones (`VMGuestResults.expected`, the lines the image must print too).
final class VMGuestTests: XCTestCase {
    func testEveryTestGuestGivesItsDocumentedLines() throws {
        let programs = SimBoot.components + [SimBoot.vmm]
        var names = Set(programs.map(\.name))
        names.formUnion(VMGuestResults.guests)
        let blob = try SimBoot.compile(try SimBoot.example("vm-tests.toml"), file: "vm-tests.toml",
                                       machineMemory: 512 << 20, knownBinaries: names)
        let system = try SimBoot.system(manifest: blob, programs: programs, guests: VMGuestResults.guests,
                                        memorySize: 512 << 20)
        let stop = system.run(maxSteps: 5_000_000) {
            $0.serialText.components(separatedBy: " stopped: ").count > VMGuestResults.guests.count
        }
        XCTAssertEqual(stop, .condition, system.consoleText + system.serialText)
        let results = VMGuestResults.lines(fromLog: system.serialText)
        for (vm, expected) in VMGuestResults.expected {
            XCTAssertEqual(results[vm] ?? [], expected, "VM \(vm)")
        }
        XCTAssertFalse(system.serialText.contains("FAIL"), system.serialText)
    }
}

/// What each test VM must print, and how to pick those lines out of a log.
enum VMGuestResults {
    static let guests = ["guest-cpuid", "guest-io", "guest-hlt", "guest-pagefault", "guest-inject", "guest-invalid",
                         "guest-unmapped"]
    static let pass = "stopped: exited through the debug-exit port with status 0x10 (pass)"
    static let expected: [String: [String]] = [
        "cpuid": ["PASS cpuid-max-leaf", "PASS cpuid-vendor", "PASS cpuid-hypervisor-bit", "PASS cpuid-hidden-features",
                  "PASS cpuid-baseline", "PASS cpuid-no-svm", "PASS cpuid-long-mode", "PASS cpuid-unknown-leaf-zero", pass],
        "io": ["PASS io-byte", "PASS io-word", "PASS io-dword", "PASS io-byte-offset",
               "string-io: this line came through rep outsb", "PASS io-rep-outsb", "PASS io-rep-insb",
               "PASS io-rep-insb-rdi", pass],
        "hlt": ["PASS hlt-woken-by-interrupt", pass],
        "pagefault": ["PASS pagefault-handled", "PASS pagefault-cr2", "PASS pagefault-error-code", pass],
        "inject": ["PASS inject-ud", "PASS inject-gp", "PASS inject-gp-error-code", "PASS vmmcall-unknown", pass],
        "invalid": ["PASS invalid-ud2", "PASS invalid-ud1", "PASS invalid-lock-nop", "PASS invalid-getsec", pass],
        "unmapped": ["unmapped: touching guest-physical 0x20000000",
                     "stopped: touched guest-physical 0x20000000, which is not its RAM"],
    ]

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
