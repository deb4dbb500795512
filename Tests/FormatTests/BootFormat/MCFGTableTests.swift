import BootFormat
import XCTest

/// The MCFG as QEMU's q35 builds it (one window, segment 0, buses 0-255 at 0xb0000000), by hand; what a broken
/// table is refused for; and random bytes never crash the parser.
final class MCFGTableTests: XCTestCase {
    static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8)] }
    static func le32(_ v: UInt32) -> [UInt8] { le16(UInt16(v & 0xffff)) + le16(UInt16(v >> 16)) }
    static func le64(_ v: UInt64) -> [UInt8] { le32(UInt32(v & 0xffff_ffff)) + le32(UInt32(v >> 32)) }

    static func window(_ base: UInt64, segment: UInt16 = 0, buses: ClosedRange<UInt8> = 0...255) -> [UInt8] {
        window(base, segment: segment, start: buses.lowerBound, end: buses.upperBound)
    }

    static func window(_ base: UInt64, segment: UInt16 = 0, start: UInt8, end: UInt8) -> [UInt8] {
        le64(base) + le16(segment) + [start, end] + le32(0)
    }

    static func mcfg(_ windows: [[UInt8]], extra: [UInt8] = [], fixChecksum: Bool = true) -> [UInt8] {
        let body = windows.flatMap { $0 } + extra
        var t: [UInt8] = Array("MCFG".utf8) + le32(UInt32(44 + body.count)) + [1, 0] + Array("BOCHS BXPC    ".utf8)
        t += le32(1) + le32(0x4258_5043) + le32(1)
        XCTAssertEqual(t.count, 36)
        t += [UInt8](repeating: 0, count: 8) + body
        if fixChecksum { t[9] = 0 &- t.reduce(0, &+) }
        return t
    }

    func testQEMUsTable() throws {
        let t = try MCFGTable(table: Self.mcfg([Self.window(0xb000_0000)]))
        XCTAssertEqual(t.windows, [ConfigurationWindow(base: 0xb000_0000, segment: 0, startBus: 0, endBus: 255)])
        XCTAssertEqual(t.windows[0].range, PhysicalRange(base: 0xb000_0000, size: 256 << 20))
        XCTAssertEqual(t.windows[0].description, "segment 0 buses 0-255 at 0xb0000000")
    }

    func testAWindowStartingAtALaterBusCoversOnlyItsBuses() throws {
        let t = try MCFGTable(table: Self.mcfg([Self.window(0xe000_0000, buses: 0...63),
                                                 Self.window(0x8_0000_0000, segment: 1, buses: 16...31)]))
        XCTAssertEqual(t.windows[1].range, PhysicalRange(base: 0x8_0100_0000, size: 16 << 20))
    }

    func testBrokenTablesAreRefusedWithTheReason() {
        func refused(_ bytes: [UInt8]) -> MCFGError? {
            do { _ = try MCFGTable(table: bytes); return nil } catch { return error }
        }
        let good = Self.mcfg([Self.window(0xb000_0000)])
        XCTAssertEqual(refused(Array(good.prefix(40))), .truncated(length: 40))
        var sig = good
        sig[0] = 0x58
        XCTAssertEqual(refused(sig), .badSignature)
        XCTAssertEqual(refused(Array(good.dropLast())), .badLength(60))
        var sum = good
        sum[50] ^= 1
        XCTAssertEqual(refused(sum), .badChecksum)
        XCTAssertEqual(refused(Self.mcfg([Self.window(0xb000_0000)], extra: [1, 2, 3])), .ragged(length: 63))
        XCTAssertEqual(refused(Self.mcfg([])), .noWindow)
        XCTAssertEqual(refused(Self.mcfg([Self.window(0xb000_1000)])),
                       .badWindow(offset: 44, ConfigurationWindow(base: 0xb000_1000, segment: 0, startBus: 0, endBus: 255)))
        XCTAssertEqual(refused(Self.mcfg([Self.window(0)]))?.description,
                       "MCFG window at offset 44 (base 0x0, buses 0-255) is not a non-zero 1 MiB-aligned range of buses")
        XCTAssertNotNil(refused(Self.mcfg([Self.window(0xb000_0000, start: 9, end: 8)])))
        XCTAssertNotNil(refused(Self.mcfg([Self.window(0xffff_ffff_fff0_0000)]))) // wraps
        XCTAssertEqual(refused(Self.mcfg([Self.window(0xb000_0000, buses: 0...127), Self.window(0xc000_0000, buses: 100...200)])),
                       .overlappingBuses(segment: 0, 0, 100))
    }

    /// Random bodies behind a valid header, and random truncations: an error or a table, never a crash, and every
    /// accepted window keeps the invariants.
    func testRandomTablesNeverCrash() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let count = Int.random(in: 0...6, using: &generator)
            var body: [UInt8] = []
            for _ in 0..<count * 16 + Int.random(in: 0...2, using: &generator) { body.append(.random(in: 0...255, using: &generator)) }
            var table = Self.mcfg([], extra: body)
            if Bool.random(using: &generator) { table = Array(table.prefix(Int.random(in: 0...table.count, using: &generator))) }
            guard let t = try? MCFGTable(table: table) else { continue }
            for w in t.windows {
                XCTAssertTrue(w.base != 0 && w.base & 0xf_ffff == 0 && w.startBus <= w.endBus, "\(w)")
            }
        }
    }
}
