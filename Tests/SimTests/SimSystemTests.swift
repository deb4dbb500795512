import XCTest
import BootFormat
import KernelABI
import UserRuntime
@testable import Sim

final class SimSystemTests: XCTestCase {
    func testRootProgramPrintsThroughConsoleWrite() throws {
        var bootInfoMagic: UInt64 = 0
        let root = SimProgram(name: "root") { p, bootInfo in
            bootInfoMagic = p.load64(bootInfo)
            SystemCalls(p).print("hello from the root task\n")
        }
        let system = try SimSystem(root: root)
        let reason = system.run(maxSteps: 1000) { $0.consoleText.contains("hello from the root task\n") }
        XCTAssertEqual(reason, .condition, system.trace.lines.suffix(20).joined(separator: "\n"))
        XCTAssertEqual(bootInfoMagic, RootBootInfo.magic, "rdi points at the boot info page")
        XCTAssertTrue(system.trace.events.contains(.programStarted(name: "root", rip: SimProgramImage.defaultBase)))
    }

    func testDebugExitStopsTheRunAndSerialCarriesOutput() throws {
        let root = SimProgram(name: "root") { p, _ in
            for byte in "serial\n".utf8 { p.portOut8(0x3f8, byte) }
            p.portOut8(0xf4, 3)
        }
        let system = try SimSystem(root: root)
        XCTAssertEqual(system.run(maxSteps: 1000), .debugExit(status: 7))
        XCTAssertEqual(system.serialText, "serial\n")
    }

    func testSeveralSystemsInOneProcess() throws {
        func system(_ text: StaticString) throws -> SimSystem {
            try SimSystem(root: SimProgram(name: "root") { p, _ in SystemCalls(p).print(text) })
        }
        let a = try system("first"), b = try system("second")
        b.run(maxSteps: 200) { $0.consoleText.contains("second") }
        a.run(maxSteps: 200) { $0.consoleText.contains("first") }
        XCTAssertTrue(a.consoleText.contains("first"))
        XCTAssertFalse(a.consoleText.contains("second"))
        XCTAssertTrue(b.consoleText.contains("second"))
        XCTAssertFalse(b.consoleText.contains("first"))
    }

    func testBadBundlesAreClearErrors() {
        XCTAssertThrowsError(try SimSystem(bundle: [1, 2, 3], programs: SimProgramRegistry())) { error in
            guard case .badBundle? = error as? SimSystemError else { return XCTFail("\(error)") }
        }
        var writer = BootBundleWriter()
        try? writer.add(name: "manifest", data: [0])
        XCTAssertThrowsError(try SimSystem(bundle: writer.bytes(), programs: SimProgramRegistry())) {
            XCTAssertEqual($0 as? SimSystemError, .bundleHasNoRootTask)
        }
        var small = SimSystem.Options()
        small.memorySize = 1 << 20
        XCTAssertThrowsError(try SimSystem(root: SimProgram(name: "root") { _, _ in }, options: small)) {
            guard case .memoryTooSmall? = $0 as? SimSystemError else { return XCTFail("\($0)") }
        }
    }

    func testBootFailureIsReported() {
        var writer = BootBundleWriter()
        try? writer.add(name: "roottask", data: [0x7f, 0x45, 0x4c, 0x46])
        XCTAssertThrowsError(try SimSystem(bundle: writer.bytes(), programs: SimProgramRegistry())) {
            guard case .bootFailed(.badRootImage)? = $0 as? SimSystemError else { return XCTFail("\($0)") }
        }
    }
}
