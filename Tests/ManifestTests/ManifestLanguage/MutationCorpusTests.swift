import Foundation
import ManifestLanguage
import XCTest

/// One file of Corpus/*.case: a single change to golden.toml and the exact diagnostics it must produce.
///
///     # what the case shows
///     --- find
///     text that occurs exactly once in golden.toml (one or more lines)
///     --- replace
///     its replacement (may be empty)
///     --- expect
///     golden.toml:LINE:COLUMN: error: message      (every diagnostic, in order)
struct MutationCase {
    var name: String
    var find: String
    var replace: String
    var expect: [String]

    init(name: String, text: String) throws {
        self.name = name
        var sections: [String: [String]] = [:]
        var current: String?
        for line in text.components(separatedBy: "\n") {
            if line.hasPrefix("--- ") {
                current = String(line.dropFirst(4))
                sections[current!] = []
            } else if let current {
                sections[current]!.append(line)
            }
        }
        guard let find = sections["find"], let replace = sections["replace"], let expect = sections["expect"] else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "\(name): needs find, replace and expect"])
        }
        func joined(_ lines: [String]) -> String {
            var lines = lines
            while lines.last == "" { lines.removeLast() }
            return lines.joined(separator: "\n")
        }
        self.find = joined(find)
        self.replace = joined(replace)
        self.expect = expect.filter { !$0.isEmpty }
    }

    func apply(to golden: String) -> String? {
        let parts = golden.components(separatedBy: find)
        guard !find.isEmpty, parts.count == 2 else { return nil }
        return parts[0] + replace + parts[1]
    }
}

final class MutationCorpusTests: XCTestCase {
    func loadCases() throws -> [MutationCase] {
        let files = try FileManager.default.contentsOfDirectory(atPath: Corpus.directory.path)
            .filter { $0.hasSuffix(".case") }.sorted()
        return try files.map { try MutationCase(name: $0, text: Corpus.text($0)) }
    }

    func testEveryCaseGivesExactlyItsDiagnostics() throws {
        let golden = try Corpus.text("golden.toml")
        let cases = try loadCases()
        XCTAssertGreaterThanOrEqual(cases.count, 50)
        for c in cases {
            guard let mutated = c.apply(to: golden) else {
                XCTFail("\(c.name): the find text must occur exactly once in golden.toml")
                continue
            }
            XCTAssertNotEqual(mutated, golden, c.name)
            XCTAssertFalse(c.expect.isEmpty, "\(c.name): a mutation case must expect at least one diagnostic")
            switch Corpus.compileGolden(mutated) {
            case .success:
                XCTFail("\(c.name): the mutated manifest was accepted")
            case .failure(let errors):
                XCTAssertEqual(errors.diagnostics.map { $0.description }, c.expect, c.name)
                if ProcessInfo.processInfo.environment["PRINT_CORPUS"] != nil {
                    print("CORPUS \(c.name)\t" + errors.diagnostics.map { $0.description }.joined(separator: "\u{1}"))
                }
            }
        }
    }

    /// The corpus covers every validation rule and every parse error kind; a rule without a case fails here.
    func testCorpusCoversEveryRule() throws {
        let names = Set(try loadCases().map { String($0.name.dropLast(".case".count)) })
        let required = [
            // parse errors
            "parse-unterminated-string", "parse-invalid-escape", "parse-unknown-size-suffix", "parse-integer-overflow",
            "parse-float", "parse-negative-integer", "parse-missing-equals", "parse-missing-value", "parse-trailing-text",
            "parse-unterminated-array", "parse-array-separator", "parse-duplicate-key", "parse-table-defined-twice",
            "parse-inline-table", "parse-unclosed-header", "parse-unquoted-string", "parse-dotted-key",
            "parse-multiline-string",
            // schema
            "unknown-key", "unknown-key-no-suggestion", "unknown-section", "wrong-type-section", "wrong-type-integer",
            "wrong-type-bool", "wrong-type-array-element", "wrong-type-range", "missing-required-key",
            // semantics
            "duplicate-component-name", "duplicate-vm-name", "missing-binary", "missing-guest-image",
            "service-provided-by-nobody", "route-to-unknown-provider", "route-wrong-kind-service",
            "route-wrong-kind-provider", "overlapping-ports", "overlapping-mmio", "interrupt-claimed-twice",
            "memory-exceeds-machine", "machine-memory-exceeds-target", "dependency-cycle", "vm-unknown-vmm", "vm-not-a-vmm",
            "mmio-wraps", "escaped-name", "parse-comment-control", "parse-nesting-too-deep",
            // the target machine (q35 + OVMF) and binary kinds
            "platform-mmio-overlaps-ram", "platform-mmio-overlaps-kernel", "platform-mmio-overlaps-lapic",
            "platform-mmio-overlaps-ioapic", "platform-mmio-overlaps-hpet", "platform-mmio-overlaps-ecam",
            "platform-port-pic", "platform-port-pit", "platform-port-keyboard", "platform-port-pci-config",
            "platform-irq-timer", "platform-irq-cascade", "platform-memory-leaves-no-room",
            "binary-roottask-as-component", "vm-boots-a-driver", "binary-directory-name",
            // PCI device assignment
            "pci-device-malformed", "pci-device-assigned-twice", "pci-service-provided-twice",
        ]
        for rule in required { XCTAssertTrue(names.contains(rule), "no corpus case for \(rule)") }
    }

    func testGoldenItselfIsAccepted() throws {
        guard case .success = Corpus.compileGolden(try Corpus.text("golden.toml")) else { return XCTFail() }
    }
}
