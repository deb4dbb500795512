import XCTest
@testable import ELFFormat

final class ELFImageTests: XCTestCase {
    private func parse(_ file: ELFTestFile) -> Result<ELFImage, ELFError> {
        do throws(ELFError) { return .success(try ELFImage(bytes: file.bytes)) } catch { return .failure(error) }
    }

    private func expect(_ file: ELFTestFile, fails expected: ELFError, line: UInt = #line) {
        switch parse(file) {
        case .success: XCTFail("expected \(expected), the file was accepted", line: line)
        case .failure(let error):
            XCTAssertEqual(error, expected, line: line)
            XCTAssertFalse(error.description.isEmpty, line: line)
        }
    }

    func testValidFileRoundTrip() throws {
        let file = ELFTestFile()
        let image = try parse(file).get()
        XCTAssertEqual(image.entry, 0x80_0000_0000)
        XCTAssertEqual(image.fileSize, 0x1010)
        XCTAssertEqual(image.segments, [
            ELFSegment(index: 0, virtualAddress: 0x80_0000_0000, fileOffset: 0, fileSize: 0x1000, memorySize: 0x1000,
                       readable: true, writable: false, executable: true),
            ELFSegment(index: 1, virtualAddress: 0x80_0000_1000, fileOffset: 0x1000, fileSize: 0x10,
                       memorySize: 0x2000, readable: true, writable: true, executable: false),
        ])
        let data = image.segments[1]
        XCTAssertEqual(data.pageCount, 2)
        XCTAssertEqual(data.fileOffset(ofVirtual: 0x80_0000_1000), 0x1000)
        XCTAssertEqual(file.bytes[Int(data.fileOffset(ofVirtual: 0x80_0000_1000)!)], 0xab)
        XCTAssertNil(data.fileOffset(ofVirtual: 0x80_0000_1010), "bss is not in the file")
        XCTAssertNoThrow(try image.checkSegments(within: 0x80_0000_0000, 0x8000_0000_0000))
    }

    func testByteReaderOnlyReadsInsideTheFile() throws {
        let bytes = ELFTestFile().bytes
        var maxOffset: UInt64 = 0
        let image = try ELFImage(size: UInt64(bytes.count)) { offset in
            maxOffset = max(maxOffset, offset)
            return bytes[Int(offset)]
        }
        XCTAssertEqual(image.segments.count, 2)
        XCTAssertLessThan(maxOffset, UInt64(bytes.count))
    }

    func testIgnoresInformationalHeaders() throws {
        var file = ELFTestFile()
        file.segments.append(.init(type: 0x6474_e551, flags: 6, offset: 0, vaddr: 0, fileSize: 0, memorySize: 0))
        file.segments.append(.init(type: 4, flags: 4, offset: 0x100, vaddr: 0, fileSize: 8, memorySize: 8))
        XCTAssertEqual(try parse(file).get().segments.count, 2)
    }

    func testTooShort() {
        let file = ELFTestFile()
        XCTAssertThrowsError(try ELFImage(bytes: Array(file.bytes.prefix(63)))) { error in
            XCTAssertEqual(error as? ELFError, .tooShort(size: 63))
        }
    }

    func testBadMagic() {
        var bytes = ELFTestFile().bytes
        bytes[1] = 0x45 + 1
        XCTAssertThrowsError(try ELFImage(bytes: bytes)) { XCTAssertEqual($0 as? ELFError, .badMagic) }
    }

    func testNotELF64() {
        var file = ELFTestFile(); file.elfClass = 1
        expect(file, fails: .notELF64(elfClass: 1))
    }

    func testNotLittleEndian() {
        var file = ELFTestFile(); file.encoding = 2
        expect(file, fails: .notLittleEndian(encoding: 2))
    }

    func testBadVersion() {
        var file = ELFTestFile(); file.identVersion = 0
        expect(file, fails: .badVersion(version: 0))
        var file2 = ELFTestFile(); file2.version = 7
        expect(file2, fails: .badVersion(version: 7))
    }

    func testNotX86_64() {
        var file = ELFTestFile(); file.machine = 183
        expect(file, fails: .notX86_64(machine: 183))
    }

    func testNotExecutable() {
        var file = ELFTestFile(); file.type = 3
        expect(file, fails: .notExecutable(type: 3))
    }

    func testBadHeaderSizes() {
        var file = ELFTestFile(); file.ehsize = 52
        expect(file, fails: .badHeaderSize(field: .elfHeader, value: 52))
        var file2 = ELFTestFile(); file2.phentsize = 32
        expect(file2, fails: .badHeaderSize(field: .programHeaderEntry, value: 32))
    }

    func testProgramHeadersOutOfFile() {
        var file = ELFTestFile(); file.phoff = 0x1000
        expect(file, fails: .programHeadersOutOfFile(offset: 0x1000, count: 2))
        var file2 = ELFTestFile(); file2.phoff = UInt64.max - 10
        expect(file2, fails: .programHeadersOutOfFile(offset: UInt64.max - 10, count: 2))
    }

    func testTooManyProgramHeaders() {
        var file = ELFTestFile(); file.phnumOverride = 0xffff
        expect(file, fails: .tooManyProgramHeaders(count: 0xffff))
    }

    func testNoLoadableSegments() {
        var file = ELFTestFile(); file.segments = []
        expect(file, fails: .noLoadableSegments)
    }

    func testUnsupportedSegment() {
        var file = ELFTestFile()
        file.segments.append(.init(type: 3, offset: 0x200, vaddr: 0, fileSize: 0x10, memorySize: 0x10))
        expect(file, fails: .unsupportedSegment(index: 2, type: 3))
    }

    func testSegmentOutOfFile() {
        var file = ELFTestFile(); file.segments[1].fileSize = 0x11
        expect(file, fails: .segmentOutOfFile(index: 1))
        var file2 = ELFTestFile(); file2.segments[1].offset = UInt64.max
        expect(file2, fails: .segmentOutOfFile(index: 1))
    }

    func testFileSizeExceedsMemorySize() {
        var file = ELFTestFile(); file.segments[1].memorySize = 0x8
        expect(file, fails: .fileSizeExceedsMemorySize(index: 1))
    }

    func testBadSegmentSize() {
        var file = ELFTestFile(); file.segments[1].vaddr = UInt64.max - 0xfff; file.segments[1].offset = 0x1000
        expect(file, fails: .badSegmentSize(index: 1))
        var file2 = ELFTestFile(); file2.segments[1].fileSize = 0; file2.segments[1].memorySize = 0
        expect(file2, fails: .badSegmentSize(index: 1))
    }

    func testMisalignedSegment() {
        var file = ELFTestFile(); file.segments[1].vaddr = 0x80_0000_1008
        expect(file, fails: .misalignedSegment(index: 1))
    }

    func testOverlappingSegments() {
        // Disjoint bytes, but both touch the page at 0x80_0000_1000: they would need one page with two permissions.
        var file = ELFTestFile(); file.segments[0].memorySize = 0x1001
        expect(file, fails: .overlappingSegments(first: 0, second: 1))
    }

    func testEntryNotInSegment() {
        var file = ELFTestFile(); file.entry = 0x90_0000_0000
        expect(file, fails: .entryNotInSegment(entry: 0x90_0000_0000))
    }

    func testEntryNotExecutable() {
        var file = ELFTestFile(); file.entry = 0x80_0000_1004
        expect(file, fails: .entryNotExecutable(entry: 0x80_0000_1004, index: 1))
    }

    func testSegmentOutsideAllowedRange() throws {
        let image = try parse(ELFTestFile()).get()
        XCTAssertThrowsError(try image.checkSegments(within: 0x80_0000_1000, 0x8000_0000_0000)) {
            XCTAssertEqual($0 as? ELFError, .segmentOutsideAllowedRange(index: 0))
        }
        XCTAssertThrowsError(try image.checkSegments(within: 0, 0x80_0000_2000)) {
            XCTAssertEqual($0 as? ELFError, .segmentOutsideAllowedRange(index: 1))
        }
    }

    func testDescriptionsNameTheProblem() {
        XCTAssertEqual(ELFError.notX86_64(machine: 3).description,
                       "not an x86-64 ELF file: machine 3, expected 62 (EM_X86_64)")
        XCTAssertEqual(ELFError.entryNotInSegment(entry: 0x1234).description,
                       "entry point 0x1234 is not inside any PT_LOAD segment")
        XCTAssertEqual(ELFError.segmentOutOfFile(index: 2).description,
                       "program header 2: segment file bytes lie outside the file")
    }
}
