import Foundation
import Sim
import VMCheckComponent
import XCTest

/// Tests/ImageTests/Manifests/vm.toml on the simulator: vmcheck, the VMM in miniature that the image test boots in
/// QEMU (ImageTests.VMCheckTests), checks its guest's exits; its PASS/FAIL lines must be exactly vm.expected, the
/// lines the image prints too (so both machines print the same). The cpuid exit round trip is printed as the
/// simulator's benchmark figure (guest TSC ticks = virtual time; tools/bench-vm gives the image's).
final class VMCheckBootTests: XCTestCase {
    static let vmcheck = SimProgram(name: "vmcheck", entries: [
        { p, rdi in vmCheckMain(p, startInfo: rdi) },
        { p, rdi in vmCheckHandler(p, startInfo: rdi) },
    ])

    static func manifestFile(_ name: String) throws -> String {
        try String(contentsOf: SimBoot.repositoryRoot().appendingPathComponent("Tests/ImageTests/Manifests/\(name)"),
                   encoding: .utf8)
    }

    func testVMCheckPassesEveryCheckWithTheLinesTheImagePrints() throws {
        let programs = [SimBoot.serial, Self.vmcheck]
        let guests = ["guest-cpuid"]
        let blob = try SimBoot.compile(try Self.manifestFile("vm.toml"), file: "vm.toml",
                                       knownBinaries: Set(programs.map(\.name) + guests))
        let system = try SimBoot.system(manifest: blob, programs: programs, guests: guests)
        let stop = system.run(maxSteps: 2_000_000) { $0.serialText.contains("vmcheck: done") }
        XCTAssertEqual(stop, .condition, system.consoleText + system.serialText)
        let lines = system.serialText.split(whereSeparator: \.isNewline).map(String.init)
        let checks = lines.filter { $0.hasPrefix("vmcheck: PASS") || $0.hasPrefix("vmcheck: FAIL") }
        let expected = try Self.manifestFile("vm.expected").split(whereSeparator: \.isNewline).map(String.init)
        XCTAssertEqual(checks, expected, system.serialText)

        let line = lines.first { $0.contains("cpuid exit round trip") } ?? ""
        let ticks = line.components(separatedBy: "round trip ").last.flatMap { UInt64($0.prefix { $0.isNumber }) }
        XCTAssertGreaterThan(ticks ?? 0, 0, line)
        print("benchmark: simulator vm cpuid exit round trip = \(ticks ?? 0) guest TSC ticks (\(line))")
    }
}
