import BootFormat
@testable import RootTask
import XCTest

final class PageAllocatorTests: XCTestCase {
    func testHandsOutOnlyWholePagesInsideTheGivenMemory() {
        var a = PageAllocator(memory: [PhysicalRange(base: 0x1800, size: 0x3000)], reserved: [])
        // 0x1800..<0x4800 holds whole pages 0x2000 and 0x3000 only.
        XCTAssertEqual(a.freePages, 2)
        XCTAssertEqual(a.allocate(), 0x2000)
        XCTAssertEqual(a.allocate(), 0x3000)
        XCTAssertNil(a.allocate())
    }

    func testNeverHandsOutReservedPages() {
        var a = PageAllocator(memory: [PhysicalRange(base: 0x10000, size: 0x8000)],
                              reserved: [PhysicalRange(base: 0x12800, size: 0x1000)])
        var got: [UInt64] = []
        while let p = a.allocate() { got.append(p) }
        XCTAssertEqual(got, [0x10000, 0x11000, 0x14000, 0x15000, 0x16000, 0x17000])
    }

    func testFreedPagesAreReusedAndNeverDuplicated() {
        var a = PageAllocator(memory: [PhysicalRange(base: 0, size: 0x3000), PhysicalRange(base: 0x100000, size: 0x1000)],
                              reserved: [])
        let p1 = a.allocate()!, p2 = a.allocate()!
        a.free(p1)
        XCTAssertEqual(a.allocate(), p1)
        var rest: [UInt64] = []
        while let p = a.allocate() { rest.append(p) }
        XCTAssertEqual(Set([p1, p2] + rest).count, 2 + rest.count)
        XCTAssertEqual(rest, [0x2000, 0x100000])
    }

    func testWrappingOrTinyRangesGiveNothing() {
        let a = PageAllocator(memory: [PhysicalRange(base: UInt64.max - 0xfff, size: 0x2000),
                                       PhysicalRange(base: 0x1001, size: 0xffe)], reserved: [])
        XCTAssertEqual(a.freePages, 0)
    }

    func testSelectorAllocatorAlignsBlocksAndStopsAtTheLimit() {
        var s = SelectorAllocator(first: 300, limit: 400)
        XCTAssertEqual(s.allocate(), 300)
        XCTAssertEqual(s.allocate(order: 5), 320)
        XCTAssertEqual(s.allocate(), 352)
        XCTAssertNil(s.allocate(order: 6))
        XCTAssertEqual(s.allocate(order: 4), 368)
    }
}
