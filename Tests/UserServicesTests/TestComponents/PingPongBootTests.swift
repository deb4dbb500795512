import PingComponent
import PongComponent
import Sim
import XCTest

/// examples/ipc-pingpong.toml on the simulator: the same two ring-3 components the image test boots in QEMU
/// exchange IPC through a portal, pass a page, and the revoked page faults. The run also prints the simulator's
/// figure for the IPC round trip (virtual-time ticks; tools/bench-ipc gives the image's instruction count).
final class PingPongBootTests: XCTestCase {
    static let ping = SimProgram(name: "ping", main: { p, rdi in pingMain(p, startInfo: rdi) })
    static let pong = SimProgram(name: "pong", entries: [
        { p, rdi in pongMain(p, startInfo: rdi) },
        { p, rdi in pongPortal(p, startInfo: rdi) },
    ])

    func boot() throws -> SimSystem {
        let programs = [SimBoot.serial, Self.ping, Self.pong]
        let blob = try SimBoot.compile(try SimBoot.example("ipc-pingpong.toml"), file: "ipc-pingpong.toml",
                                       knownBinaries: Set(programs.map(\.name)))
        return try SimBoot.system(manifest: blob, programs: programs)
    }

    func testPingAndPongExchangeIPCAndTheRevokedPageFaults() throws {
        let system = try boot()
        let stop = system.run(maxSteps: 2_000_000) { $0.consoleText.contains("root: ping faulted") }
        XCTAssertEqual(stop, .condition, system.consoleText + system.serialText)
        let serial = system.serialText
        XCTAssertTrue(serial.contains("ping: echo ok"), serial)
        XCTAssertTrue(serial.contains("ping: ipc round trip ticks="), serial)
        XCTAssertTrue(serial.contains("ping: shared page holds pong's pattern"), serial)
        XCTAssertTrue(serial.contains("ping: reading the revoked page at 0x"), serial)
        XCTAssertFalse(serial.contains("the revoked page was still readable"), serial)
        // The fault names the revoked page's address.
        let address = serial.components(separatedBy: "revoked page at ").last?.prefix { $0.isHexDigit || $0 == "x" }
        let faultLine = system.consoleText.split(separator: "\n").first { $0.contains("root: ping faulted") } ?? ""
        XCTAssertTrue(faultLine.contains("page fault"), String(faultLine))
        XCTAssertTrue(faultLine.contains("address \(address ?? "?")"), String(faultLine))

        // The simulator's figure for one call+reply (virtual-time ticks), printed for the benchmark record.
        let line = serial.split(separator: "\n").first { $0.contains("ipc round trip") } ?? ""
        let ticks = line.components(separatedBy: "ticks=").last.flatMap { UInt64($0.prefix { $0.isNumber }) }
        XCTAssertGreaterThan(ticks ?? 0, 0, String(line))
        print("benchmark: simulator ipc call+reply round trip = \(ticks ?? 0) virtual ticks (\(line))")
    }
}
