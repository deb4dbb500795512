import XCTest
@testable import Sim

final class SimPhysicalMemoryTests: XCTestCase {
    func testSparseReadWriteAndBytes() throws {
        let memory = SimPhysicalMemory(size: 1 << 32)
        XCTAssertEqual(try memory.read64(0xffff_f000), 0)
        try memory.write64(0x1000_0008, 0x1122_3344_5566_7788)
        XCTAssertEqual(try memory.read8(0x1000_0008), 0x88)
        try memory.write8(0x1000_000f, 0xaa)
        XCTAssertEqual(try memory.read64(0x1000_0008), 0xaa22_3344_5566_7788)
        XCTAssertEqual(memory.touchedPageCount, 1, "only the written page exists")
        try memory.copyPage(from: 0x1000_0000, to: 0x2000)
        XCTAssertEqual(try memory.read(2, at: 0x200e), [0x22, 0xaa])
        try memory.zeroPage(0x1000_0000)
        XCTAssertEqual(try memory.read64(0x1000_0008), 0)
    }

    func testAccessBeyondRAMIsAClearError() {
        let memory = SimPhysicalMemory(size: 0x10000)
        XCTAssertThrowsError(try memory.read64(0x10000)) { error in
            XCTAssertEqual(error as? SimPhysicalMemoryError, .outOfRange(address: 0x10000, size: 0x10000))
            XCTAssertEqual("\(error)", "physical address 0x10000 is beyond the machine's 0x10000 bytes of RAM")
        }
        XCTAssertThrowsError(try memory.write8(0xffff_ffff, 1))
        XCTAssertThrowsError(try memory.read64(0xff9)) { error in
            XCTAssertEqual(error as? SimPhysicalMemoryError, .misaligned(address: 0xff9, alignment: 8))
        }
        XCTAssertThrowsError(try memory.zeroPage(0x10000))
    }
}
