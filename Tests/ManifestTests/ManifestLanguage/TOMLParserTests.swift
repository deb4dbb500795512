@testable import ManifestLanguage
import XCTest

/// The TOML subset: values, locations and recovery after errors.
final class TOMLParserTests: XCTestCase {
    func parse(_ source: String) -> (TOMLTable, [Diagnostic]) {
        var parser = TOMLParser(source: source, file: "t.toml")
        parser.parse()
        return (parser.root, parser.diagnostics)
    }

    func testValuesAndLocations() throws {
        let (root, diagnostics) = parse("""
        a = "x\\ty\\u00e9" # comment
        b = 'C:\\path'
        c = 0x1_000
        d = [1, 2,
             3,]   # trailing comma, spans lines
        e = true
        f = 64M
        """)
        XCTAssertEqual(diagnostics, [])
        guard case .string("x\ty\u{e9}") = root.entry("a")?.value.kind else { return XCTFail() }
        guard case .string("C:\\path") = root.entry("b")?.value.kind else { return XCTFail() }
        guard case .integer(0x1000) = root.entry("c")?.value.kind else { return XCTFail() }
        guard case .array(let d) = root.entry("d")?.value.kind, d.count == 3 else { return XCTFail() }
        XCTAssertEqual(d[2].location.line, 5)
        XCTAssertEqual(d[2].location.column, 6)
        guard case .bool(true) = root.entry("e")?.value.kind else { return XCTFail() }
        guard case .integer(64 << 20) = root.entry("f")?.value.kind else { return XCTFail() }
        XCTAssertEqual(root.entry("f")?.keyLocation, SourceLocation(line: 7, column: 1))
    }

    func testCRLFLineEndingsCountLikeLF() {
        let (root, diagnostics) = parse("a = 1\r\nb = [2,\r\n 3]\r\nc = x\r\n")
        XCTAssertEqual(diagnostics.map { $0.description },
                       ["t.toml:4:5: error: invalid value 'x'; strings need quotes (\"x\"), booleans are true or false"])
        XCTAssertNotNil(root.entry("b"))
    }

    func testAllSyntaxErrorsAreReportedNotJustTheFirst() {
        let (root, diagnostics) = parse("a = \"open\nb = 1.5\nc = 3\nd =\n")
        XCTAssertEqual(diagnostics.map { "\($0.line):\($0.column)" }, ["1:5", "2:5", "4:4"])
        XCTAssertNotNil(root.entry("c"))
    }

    func testTablesAndArraysOfTables() {
        let (root, diagnostics) = parse("[m]\nx = 1\n[[c]]\nn = 1\n[[c.s]]\nk = 1\n[[c]]\nn = 2\n[[c.s]]\n[[c.s]]\n")
        XCTAssertEqual(diagnostics, [])
        guard case .tableArray(let cs) = root.entry("c")?.value.kind, cs.count == 2,
              case .tableArray(let firstServices) = cs[0].entry("s")?.value.kind,
              case .tableArray(let secondServices) = cs[1].entry("s")?.value.kind else { return XCTFail() }
        XCTAssertEqual(firstServices.count, 1)
        XCTAssertEqual(secondServices.count, 2)
    }

    func testIntegerLiterals() {
        XCTAssertEqual(try IntegerLiteral.parse("4K").get(), 4096)
        XCTAssertEqual(try IntegerLiteral.parse("0x10M").get(), 16 << 20)
        XCTAssertEqual(try IntegerLiteral.parse("18446744073709551615").get(), UInt64.max)
        XCTAssertEqual(try IntegerLiteral.parse("16T").get(), 16 << 40)
        for bad in ["0x", "1__0", "_1", "16777216T", "1e3", "0b101", "2024-01-01", "12Q"] {
            guard case .failure = IntegerLiteral.parse(bad) else { return XCTFail(bad) }
        }
    }

    /// The fast path for plain literals agrees with the full reading wherever it answers, and leaves every
    /// error to it (so messages stay the same).
    func testPlainIntegerFastPathAgreesWithFullReading() {
        let pieces = ["0", "1", "9", "0x", "0X", "a", "F", "f", "_", "K", "M", "G", "T", "+", "-", "e", ".", "Q",
                      "18446744073709551615", "18446744073709551616", "ffffffffffffffff", "16777216", "\u{e9}"]
        var rng = SeededGenerator(seed: 11)
        var answered = 0
        for _ in 0..<20_000 {
            let text = (0..<Int.random(in: 1...5, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
            guard let fast = IntegerLiteral.plainValue(text) else { continue }
            answered += 1
            XCTAssertEqual(try? IntegerLiteral.parseInFull(text).get(), fast, text)
        }
        XCTAssertGreaterThan(answered, 1000)
    }

    /// The scanner walks UTF-8 bytes but columns count characters, and CRLF is one line end.
    func testColumnsCountCharactersNotBytes() {
        let (_, diagnostics) = parse("a = \"\u{e9}\u{1F600}\\q\"\r\nb = '\u{e9}\u{e9}' x\nc = \u{e9}\n")
        XCTAssertEqual(diagnostics.map { "\($0.line):\($0.column)" }, ["1:8", "2:10", "3:5"])
    }

    /// Tables switch from a scan to a hash past a few keys; lookups and duplicates work on both sides.
    func testLargeTablesFindEveryKeyAndDuplicates() {
        let keys = (0..<(TOMLTable.scanLimit * 3)).map { "k\($0)" }
        let (root, diagnostics) = parse(keys.map { "\($0) = 1" }.joined(separator: "\n") + "\nk3 = 2\nk20 = 2\n")
        XCTAssertEqual(diagnostics.map { "\($0.line):\($0.column)" }, ["\(keys.count + 1):1", "\(keys.count + 2):1"])
        for (i, key) in keys.enumerated() { XCTAssertEqual(root.entry(key)?.keyLocation.line, i + 1, key) }
        XCTAssertNil(root.entry("k999"))
    }

    func testSuggestions() {
        XCTAssertEqual(KeySuggestion().closest(to: "priorty", in: ManifestSchema.component.map { $0.name }), "priority")
        XCTAssertEqual(KeySuggestion().closest(to: "iports", in: ManifestSchema.component.map { $0.name }), "io_ports")
        XCTAssertNil(KeySuggestion().closest(to: "colour", in: ManifestSchema.component.map { $0.name }))
    }
}
