import XCTest
import ELFFormat
@testable import Sim

final class SimProgramImageTests: XCTestCase {
    func testImageIsAValidELFWithOneRecordPerEntry() throws {
        let program = SimProgram(name: "three", entries: [{ _, _ in }, { _, _ in }, { _, _ in }])
        let bytes = program.image(base: 0x80_0000_0000, dataPages: 2)
        let image = try ELFImage(bytes: bytes)
        XCTAssertEqual(image.entry, 0x80_0000_0000)
        XCTAssertEqual(image.segments.count, 2)
        let code = image.segments[0], data = image.segments[1]
        XCTAssertTrue(code.executable && !code.writable)
        XCTAssertTrue(data.writable && !data.executable)
        XCTAssertEqual(data.fileSize, 0)
        XCTAssertEqual(data.memorySize, 2 * 4096)
        for index in 0..<3 {
            let at = Int(code.fileOffset(ofVirtual: SimProgramImage.entryAddress(base: 0x80_0000_0000, index: index))!)
            let words = (0..<4).map { w in (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[at + 8 * w + $1]) << (8 * UInt64($1)) } }
            XCTAssertEqual(SimCodeRecord(words: words), SimCodeRecord(programID: program.id, entryIndex: UInt64(index)))
        }
    }

    func testRecordDecodingRejectsOtherBytes() {
        XCTAssertNil(SimCodeRecord(words: [0x90909090, 1, 0, 0]))
        XCTAssertNil(SimCodeRecord(words: [SimCodeRecord.magic, 1, 0, 5]))
        XCTAssertNil(SimCodeRecord(words: [SimCodeRecord.magic, 1]))
        XCTAssertEqual(SimProgram.id(name: "a"), SimProgram.id(name: "a"))
        XCTAssertNotEqual(SimProgram.id(name: "a"), SimProgram.id(name: "b"))
    }
}
