import Foundation
import ManifestFormat
import ManifestLanguage
import XCTest

/// Input nobody here would write: each gives one clear error at its position, never a crash, in linear time.
final class HostileInputTests: XCTestCase {
    func errors(_ source: String) -> [String] {
        errors(bytes: Array(source.utf8))
    }

    func errors(bytes: [UInt8]) -> [String] {
        guard case .failure(let e) = ManifestCompiler.compile(bytes: bytes, file: "h.toml", machineMemory: 512 << 20,
                                                              binaryExists: { _ in true }) else { return [] }
        return e.diagnostics.map { $0.description }
    }

    func testArraysNestedThousandsDeepStopAtTheLimit() {
        let deep = "a = " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n"
        XCTAssertEqual(errors(deep), ["h.toml:1:37: error: arrays nested more than 32 deep; the manifest needs at most 2"])
    }

    func testDottedHeaderWithTensOfThousandsOfKeys() {
        let header = "[" + Array(repeating: "k", count: 50_000).joined(separator: ".") + "]\n"
        XCTAssertEqual(errors(header), ["h.toml:1:66: error: table header with more than 32 keys; tables may nest at most 32 deep"])
    }

    func testTooManyKeysInOneTableIsNamedAtTheFirstExtraKey() {
        let text = "[x]\n" + (0..<1025).map { "k\($0) = 1" }.joined(separator: "\n") + "\n"
        XCTAssertEqual(errors(text), ["h.toml:1:2: error: unknown section [x]; did you mean [[vm]]?",
                                      "h.toml:1026:1: error: too many keys in one table: at most 1024 are allowed"])
    }

    func testHugeNameIsCutInTheMessage() {
        let name = String(repeating: "x", count: 4000) + "\n"
        let text = "[[component]]\nname = \"\(name.dropLast())!\"\nbinary = \"b\"\nmemory = 4K\n"
        let e = errors(text)
        XCTAssertEqual(e.count, 1)
        XCTAssertLessThan(e[0].utf8.count, 300, e[0])
        XCTAssertTrue(e[0].hasPrefix("h.toml:2:8: error: invalid component name 'xxxx"), e[0])
        XCTAssertTrue(e[0].contains("x... (4001 characters)': use a letter"), e[0])
    }

    func testTooLongStringIsNamedWhereItPassesTheLimit() {
        let text = "a = \"" + String(repeating: "y", count: 5000) + "\"\n"
        XCTAssertEqual(errors(text), ["h.toml:1:4102: error: string starting at 1:5 is longer than 4096 characters"])
    }

    func testForgedDiagnosticLineAndTerminalEscapesAreEscaped() {
        let text = "[[component]]\nname = \"a\\nh.toml:1:1: error: forged\\u001b[2J\"\nbinary = \"b\"\nmemory = 4K\n"
        let e = errors(text)
        XCTAssertEqual(e, ["h.toml:2:8: error: invalid component name 'a\\nh.toml:1:1: error: forged\\u{1b}[2J': use a letter followed by letters, digits, '-' or '_' (at most 63 characters)"])
        XCTAssertFalse(e.joined().contains("\n"))
        XCTAssertFalse(e.joined().unicodeScalars.contains { $0.value == 0x1b })
    }

    func testInvalidUTF8IsReportedAtItsByte() {
        var bytes = Array("# ok\nname = \"ab".utf8)
        bytes.append(0xff)
        XCTAssertEqual(errors(bytes: bytes), ["h.toml:2:11: error: invalid UTF-8: byte 0xff at offset 15 does not start a valid character; save the file as UTF-8"])
        XCTAssertEqual(errors(bytes: [0x61, 0xed, 0xa0, 0x80]).first?.contains("byte 0xed at offset 1"), true) // a surrogate
    }

    func testCROnlyLineEndingsAreNamed() {
        XCTAssertEqual(errors("# comment\r[[component]]\rname = \"a\"\r"),
                       ["h.toml:1:10: error: carriage return without a line feed (byte offset 9): CR-only line endings are not TOML; save the file with LF or CRLF line endings"])
    }

    func testFileOverTheSizeLimit() {
        let bytes = [UInt8](repeating: 0x23, count: ManifestLimits.maxFileBytes + 1)
        XCTAssertEqual(errors(bytes: bytes), ["h.toml:1:1: error: the file is \(ManifestLimits.maxFileBytes + 1) bytes; a manifest may have at most \(ManifestLimits.maxFileBytes) bytes"])
    }

    func testLargeManifestIsAccepted() {
        // 10,000 components (1.6 MB): accepted, and checking it is linear (figures: mkimage benchmark).
        let figure = CheckBenchmark.run(components: 10_000)
        XCTAssertTrue(figure.accepted)
        print(figure)
    }

    func testManyErrorsAreCutWithACount() {
        let text = String(repeating: "x\n", count: 2000)
        let e = errors(text)
        XCTAssertEqual(e.count, ManifestLimits.maxDiagnostics + 1)
        XCTAssertEqual(e.last, "h.toml:500:2: error: 1 more errors not shown; fix these first")
    }

    func testVMUsingAConsoleOfItsOwnVMMIsNoCycle() throws {
        let compiled = try ManifestCompiler.compile(source: """
            [[component]]
            name = "vmm"
            binary = "vmm"
            vmm = true
            memory = 1M
            [[component.provides]]
            name = "console"
            [[vm]]
            name = "g"
            vmm = "vmm"
            test_image = "guest"
            memory = 4M
            [[vm.services]]
            name = "console"
            provider = "vmm"
            """, file: "h.toml", machineMemory: 512 << 20, binaryExists: { _ in true }).get()
        XCTAssertEqual(compiled.system.vms[0].services[0].provider, 0)
        XCTAssertEqual(try ManifestDecoder.decode(compiled.blob), compiled.system)
        XCTAssertEqual(try StartOrder.order(compiled.system), [0])
    }

    /// Found by the fuzzer: VMs with absurd memory or vCPU counts made the kernel-quota sum overflow (a trap in the
    /// checker, and in the root task for a blob). The quota now saturates and the manifest gets its errors.
    func testAbsurdVMSizesSaturateTheKernelQuota() {
        XCTAssertGreaterThan(KernelQuota.vmPages(memory: .max, vcpus: 1), 1 << 44)
        XCTAssertEqual(KernelQuota.vmPages(memory: 64 << 20, vcpus: .max), .max)
        XCTAssertEqual(KernelQuota.pages(runningVMs: [(memory: .max, vcpus: .max), (memory: 1, vcpus: 1)]), .max)
        XCTAssertEqual(KernelQuota.vmPages(memory: 64 << 20, vcpus: 1), 1 + 8 + 2 * (2 + 1 + 2 * 32) + 74)
        let source = """
        [[component]]
        name = "vmm"
        binary = "vmm"
        vmm = true
        memory = 1M
        [[vm]]
        name = "huge"
        vmm = "vmm"
        test_image = "guest"
        memory = 0xffffffffffff000
        vcpus = 64
        """
        XCTAssertFalse(errors(source).isEmpty, "a VM larger than the machine is an error, not a trap")
        let crash = SimBootFreeCorpus.file("crash-vm-quota-overflow.toml")
        _ = errors(bytes: crash)  // must return, whatever it reports
    }
}

/// Inputs of the fuzz corpus (Tests/ManifestTests/FuzzCorpus), read from the source tree.
enum SimBootFreeCorpus {
    static func file(_ name: String) -> [UInt8] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("FuzzCorpus/\(name)")
        return (try? [UInt8](Data(contentsOf: url))) ?? []
    }
}
