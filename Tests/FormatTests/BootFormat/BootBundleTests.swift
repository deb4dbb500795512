import XCTest
@testable import BootFormat

final class BootBundleTests: XCTestCase {
    private func sample() throws -> [UInt8] {
        var writer = BootBundleWriter()
        try writer.add(name: "roottask", data: [1, 2, 3, 4, 5])
        try writer.add(name: "manifest", data: Array(repeating: 0xab, count: 5000))
        try writer.add(name: "serial", data: [])
        return writer.bytes()
    }

    private func put64(_ bytes: inout [UInt8], _ at: Int, _ value: UInt64) {
        for i in 0..<8 { bytes[at + i] = UInt8(truncatingIfNeeded: value >> UInt64(8 * i)) }
    }

    /// Recomputes the checksum so a test can reach the checks that come after it.
    private func reseal(_ bytes: inout [UInt8]) {
        let start = BootBundleLayout.headerSize
        let sum = BootBundleLayout.checksum(count: bytes.count - start) { bytes[start + $0] }
        put64(&bytes, 24, sum)
    }

    private func expectError(_ bytes: [UInt8], _ expected: BootBundleError, line: UInt = #line) {
        XCTAssertThrowsError(try BootBundle.read(bytes), line: line) { error in
            XCTAssertEqual(error as? BootBundleError, expected, line: line)
        }
    }

    func testRoundTripKeepsNamesDataAndPageAlignment() throws {
        let bytes = try sample()
        let bundle = try BootBundle.read(bytes)
        XCTAssertEqual(bundle.entries.map(\.name), ["roottask", "manifest", "serial"])
        XCTAssertEqual(bundle.totalSize, UInt64(bytes.count))
        let root = try XCTUnwrap(bundle.entry(named: "roottask"))
        XCTAssertEqual(Array(bytes[Int(root.offset)..<Int(root.offset + root.size)]), [1, 2, 3, 4, 5])
        let manifest = try XCTUnwrap(bundle.entry(named: "manifest"))
        XCTAssertEqual(manifest.size, 5000)
        XCTAssertEqual(Set(bytes[Int(manifest.offset)..<Int(manifest.offset + manifest.size)]), [0xab])
        for e in bundle.entries { XCTAssertEqual(e.offset % 4096, 0, e.name) }
        XCTAssertNil(bundle.entry(named: "missing"))
    }

    func testTruncatedBundleIsRejected() throws {
        let bytes = try sample()
        expectError(Array(bytes.prefix(10)), .truncated(needed: 32, available: 10))
        expectError(Array(bytes.dropLast(100)), .truncated(needed: bytes.count, available: bytes.count - 100))
    }

    func testBadMagicIsRejected() throws {
        var bytes = try sample()
        bytes[0] = UInt8(ascii: "X")
        XCTAssertThrowsError(try BootBundle.read(bytes)) { error in
            guard case .badMagic = error as? BootBundleError else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("HVBUNDLE"))
        }
    }

    func testCorruptModuleFailsTheChecksum() throws {
        var bytes = try sample()
        let root = try BootBundle.read(bytes).entry(named: "roottask")!
        bytes[Int(root.offset) + 2] ^= 0xff
        XCTAssertThrowsError(try BootBundle.read(bytes)) { error in
            guard case .badChecksum = error as? BootBundleError else { return XCTFail("\(error)") }
        }
    }

    func testEntryOutOfBoundsIsRejected() throws {
        var bytes = try sample()
        let entry1 = BootBundleLayout.headerSize + BootBundleLayout.entrySize
        put64(&bytes, entry1 + 56, UInt64(bytes.count)) // manifest size runs past the end
        reseal(&bytes)
        let manifest = try BootBundle.read(try sample()).entries[1]
        expectError(bytes, .entryOutOfBounds(index: 1, offset: manifest.offset, size: UInt64(bytes.count)))

        var overlapping = try sample()
        put64(&overlapping, BootBundleLayout.headerSize + 48, 8) // roottask points into the header
        reseal(&overlapping)
        expectError(overlapping, .entryOutOfBounds(index: 0, offset: 8, size: 5))
    }

    func testDuplicateNamesAreRejectedByReaderAndWriter() throws {
        var bytes = try sample()
        let entry2 = BootBundleLayout.headerSize + 2 * BootBundleLayout.entrySize
        for i in 0..<48 { bytes[entry2 + i] = 0 }
        for (i, b) in "roottask".utf8.enumerated() { bytes[entry2 + i] = b }
        reseal(&bytes)
        expectError(bytes, .duplicateName(index: 2, name: "roottask"))

        var writer = BootBundleWriter()
        try writer.add(name: "a", data: [])
        XCTAssertThrowsError(try writer.add(name: "a", data: [1]))
    }

    func testBadNamesAreRejected() throws {
        var bytes = try sample()
        bytes[BootBundleLayout.headerSize] = 0 // empty name
        reseal(&bytes)
        expectError(bytes, .badName(index: 0))

        var writer = BootBundleWriter()
        XCTAssertThrowsError(try writer.add(name: "", data: []))
        XCTAssertThrowsError(try writer.add(name: String(repeating: "x", count: 48), data: []))
        XCTAssertThrowsError(try writer.add(name: "has space", data: []))
    }

    func testBadVersionAndEntryCountAreRejected() throws {
        var bytes = try sample()
        bytes[8] = 7
        expectError(bytes, .badVersion(7))
        var many = try sample()
        many[12] = 0xff; many[13] = 0xff
        expectError(many, .tooManyEntries(0xffff))
    }
}
