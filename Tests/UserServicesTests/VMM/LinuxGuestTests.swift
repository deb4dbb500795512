import Foundation
import Sim
import XCTest

/// Debian's cloud kernel (tools/linux-guest/build's out/linux-guest; tools/test builds it first) under the real VMM
/// on the simulator, as examples/linux.toml runs it on the image: two VMMs, each with one VM; "linux" boots to its
/// init, reads its virtio disk and powers off, while "broken" gets a bzImage cut short and is refused with the
/// loader's reason, its VMM carrying on (and the other tenant unaffected). Prints the boot's figures (guest
/// instructions to the init marker and in all, wall time) as a "benchmark:" line for tools/bench-linux.
final class LinuxGuestTests: XCTestCase {
    func testLinuxBootsReadsItsDiskAndPowersOffBesideARefusedCorruptKernel() throws {
        let artifacts = SimBoot.repositoryRoot().appendingPathComponent("out/linux-guest")
        func artifact(_ name: String) throws -> [UInt8] {
            let path = artifacts.appendingPathComponent(name).path
            return [UInt8](try XCTUnwrap(FileManager.default.contents(atPath: path),
                                         "\(path) is missing: run tools/linux-guest/build first"))
        }
        let kernel = try artifact("vmlinuz"), initrd = try artifact("initramfs.cpio.gz"), disk = try artifact("disk.img")
        // Cut inside the setup header's kernel payload: "HdrS" is there, syssize reaches past the end.
        let truncated = Array(kernel.prefix(64 << 10))
        let source = try SimBoot.example("linux.toml") + """

            [[component]]
            name = "vmm-broken"
            binary = "vmm"
            vmm = true
            memory = 16M
            priority = 20

              [[component.uses]]
              name = "log"
              provider = "serial"

            [[vm]]
            name = "broken"
            vmm = "vmm-broken"
            kernel = "vmlinuz-truncated"
            memory = 32M
            """
        let programs = SimBoot.components + [SimBoot.vmm]
        let modules: [(String, [UInt8])] = [("vmlinuz", kernel), ("initramfs.cpio.gz", initrd), ("disk.img", disk),
                                            ("vmlinuz-truncated", truncated)]
        let names = Set(programs.map(\.name)).union(modules.map(\.0))
        let blob = try SimBoot.compile(source, file: "linux.toml", machineMemory: 512 << 20, knownBinaries: names)
        let system = try SimBoot.system(manifest: blob, programs: programs, modules: modules, memorySize: 512 << 20)
        let started = Date()
        var markerSeconds: Double?
        let stop = system.run(maxSteps: 40_000_000) {
            // The whole report line: a stop names its exit and rip at the end.
            let log = $0.serialText
            if markerSeconds == nil && log.contains("LINUX-GUEST: tsc ") { markerSeconds = Date().timeIntervalSince(started) }
            // Done when the root task has the VMM's report of the power-off (VMEndReport), after the log line.
            return log.contains(" reports: VM linux powered off") || log.range(of: "vmm: linux stopped: [^\n]*\n",
                                                                        options: .regularExpression) != nil
                || log.contains("vmm: cannot run linux")
        }
        let seconds = Date().timeIntervalSince(started)
        let log = system.serialText
        XCTAssertEqual(stop, .condition, system.consoleText + log)
        XCTAssertTrue(log.contains("vmm-broken: cannot run broken: Linux image: "), log)
        XCTAssertTrue(log.contains("vmm: linux: LINUX-GUEST: init started"), log)
        // What block 0 of the disk module holds, up to its first newline, is what the guest must have read.
        let text = String(decoding: disk.prefix(512).prefix { $0 != 10 && $0 != 0 }, as: UTF8.self)
        XCTAssertTrue(log.contains("vmm: linux: LINUX-GUEST: disk says " + text), log)
        XCTAssertTrue(log.contains("vmm: linux powered off"), system.consoleText + log)
        XCTAssertTrue(log.contains("root: vmm reports: VM linux powered off\n"), log)
        XCTAssertTrue(log.contains("root: vmm-broken reports: VM broken was stopped by its VMM\n"), log)
        // The VMM's exit table comes before the power-off line: port I/O (the console, PIT, PCI) cannot be absent.
        XCTAssertNotNil(log.range(of: "vmm: linux: [0-9]+ exits since the first entry at timestamp [0-9]+\n",
                                  options: .regularExpression), log)
        XCTAssertNotNil(log.range(of: "vmm: linux: exits: io [0-9]+ exits, [0-9]+ ticks each in the VMM\n",
                                  options: .regularExpression), log)
        // The guest's TSC at its marker is the guest CPU's instruction clock (TSC offset 0): at most what ran.
        let all = system.platform.guestInstructions
        let tscLine = try XCTUnwrap(log.range(of: "LINUX-GUEST: tsc [0-9]+", options: .regularExpression), log)
        let marker = try XCTUnwrap(UInt64(log[tscLine].dropFirst("LINUX-GUEST: tsc ".count)))
        XCTAssertGreaterThan(marker, 0)
        XCTAssertLessThanOrEqual(marker, all)
        print(String(format: "benchmark: simulator: %llu guest instructions to the marker (%.0f s wall since the "
                     + "machine started), %llu to power-off (%.0f s wall)", marker, markerSeconds ?? 0, all, seconds))
        for line in log.split(separator: "\n") where line.hasPrefix("vmm: linux: exits: ") {
            print("benchmark: simulator " + line.dropFirst("vmm: linux: ".count))
        }
    }
}
