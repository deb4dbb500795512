import BlockService
import XCTest

/// The block service's request checks, each refusal with its reason.
final class BlockRequestTests: XCTestCase {
    let sectors: UInt64 = 2048
    let buffer: UInt64 = 16 * 4096

    func check(_ r: BlockRequest, inFlight: [BlockRequest] = [], buffer: UInt64? = 16 * 4096) -> BlockRequestError? {
        r.check(sectors: sectors, bufferBytes: buffer, inFlight: inFlight)
    }

    func testWellFormedRequestsPass() {
        XCTAssertNil(check(BlockRequest(kind: .read, sector: 0, count: 8, offset: 0)))
        XCTAssertNil(check(BlockRequest(kind: .write, sector: 2040, count: 8, offset: 15 * 4096)), "the last sectors, the last page")
        XCTAssertNil(check(BlockRequest(kind: .flush, sector: 0, count: 0, offset: 0)))
        XCTAssertNil(check(BlockRequest(kind: .read, sector: 0, count: 8, offset: 4096),
                           inFlight: [BlockRequest(kind: .read, sector: 0, count: 8, offset: 0)]), "two reads of one sector")
    }

    func testBadRequestsAreRefusedWithTheirReason() {
        XCTAssertEqual(check(BlockRequest(kind: .read, sector: 0, count: 0, offset: 0)), .zeroLength)
        XCTAssertEqual(check(BlockRequest(kind: .read, sector: 2047, count: 2, offset: 0)), .pastTheEnd)
        XCTAssertEqual(check(BlockRequest(kind: .read, sector: 2048, count: 1, offset: 0)), .pastTheEnd)
        XCTAssertEqual(check(BlockRequest(kind: .read, sector: UInt64.max, count: 2, offset: 0)), .pastTheEnd, "no wrap")
        XCTAssertEqual(check(BlockRequest(kind: .read, sector: 0, count: 1, offset: 100)), .misaligned)
        XCTAssertEqual(check(BlockRequest(kind: .read, sector: 0, count: 1, offset: 0), buffer: nil), .noBuffer)
        XCTAssertEqual(check(BlockRequest(kind: .read, sector: 0, count: 16, offset: 15 * 4096)), .bufferNotHeld)
        XCTAssertEqual(check(BlockRequest(kind: .read, sector: 0, count: 1, offset: UInt64.max - 511)), .bufferNotHeld)
        XCTAssertEqual(check(BlockRequest(kind: .read, sector: 0, count: 129, offset: 0)), .tooLarge)
        XCTAssertEqual(check(BlockRequest(kind: .flush, sector: 1, count: 0, offset: 0)), .malformed)
    }

    func testOverlapsWithRequestsInFlight() {
        let write = BlockRequest(kind: .write, sector: 100, count: 8, offset: 0)
        XCTAssertEqual(check(BlockRequest(kind: .read, sector: 104, count: 8, offset: 8192), inFlight: [write]), .overlapping,
                       "sectors being written")
        XCTAssertEqual(check(BlockRequest(kind: .read, sector: 500, count: 8, offset: 2048), inFlight: [write]), .overlapping,
                       "the same buffer bytes")
        XCTAssertNil(check(BlockRequest(kind: .read, sector: 108, count: 8, offset: 4096), inFlight: [write]), "adjacent")
        let full = (0..<8).map { BlockRequest(kind: .read, sector: UInt64($0) * 8, count: 8, offset: UInt64($0) * 4096) }
        XCTAssertEqual(check(BlockRequest(kind: .read, sector: 1000, count: 1, offset: 8 * 4096), inFlight: full), .queueFull)
        XCTAssertEqual(check(BlockRequest(kind: .flush, sector: 0, count: 0, offset: 0), inFlight: full), .queueFull)
    }

    func testRandomRequestsNeverTrap() {
        var random = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            func value() -> UInt64 { Bool.random(using: &random) ? UInt64.random(in: 0...5000, using: &random) : UInt64.random(in: 0...UInt64.max, using: &random) }
            let r = BlockRequest(kind: BlockRequestKind(rawValue: UInt64.random(in: 0...2, using: &random))!,
                                 sector: value(), count: value(), offset: value())
            if check(r) == nil, r.kind != .flush {
                XCTAssertLessThanOrEqual(r.sector + r.count, sectors)
                XCTAssertLessThanOrEqual(r.offset + r.bytes, buffer)
            }
        }
    }
}
