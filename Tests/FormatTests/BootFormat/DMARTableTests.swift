import BootFormat
import XCTest

/// The DMAR as QEMU builds it for `-device intel-iommu,aw-bits=48,intremap=on`, by hand: one unit at 0xfed90000
/// for all devices, 48-bit host addresses, interrupt remapping; and what a broken table is refused for.
final class DMARTableTests: XCTestCase {
    static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8)] }
    static func le32(_ v: UInt32) -> [UInt8] { le16(UInt16(v & 0xffff)) + le16(UInt16(v >> 16)) }
    static func le64(_ v: UInt64) -> [UInt8] { le32(UInt32(v & 0xffff_ffff)) + le32(UInt32(v >> 32)) }

    static func drhd(base: UInt64, all: Bool = true, scopes: [UInt8] = []) -> [UInt8] {
        le16(0) + le16(UInt16(16 + scopes.count)) + [all ? 1 : 0, 0] + le16(0) + le64(base) + scopes
    }

    /// A device scope: type, length, reserved, enumeration ID, start bus, one (device, function) hop per pair.
    static func scope(type: UInt8, id: UInt8, bus: UInt8, path: [UInt8]) -> [UInt8] {
        [type, UInt8(6 + path.count), 0, 0, id, bus] + path
    }

    static func rmrr(base: UInt64, limit: UInt64) -> [UInt8] {
        le16(1) + le16(24) + le16(0) + le16(0) + le64(base) + le64(limit)
    }

    static func dmar(_ structures: [[UInt8]], width: UInt8 = 47, flags: UInt8 = 1, fixChecksum: Bool = true) -> [UInt8] {
        let body = structures.flatMap { $0 }
        var t: [UInt8] = Array("DMAR".utf8) + le32(UInt32(48 + body.count)) + [1, 0] + Array("BOCHS BXPC    ".utf8)
        t += le32(1) + le32(0x4258_5043) + le32(1)
        XCTAssertEqual(t.count, 36)
        t += [width, flags] + [UInt8](repeating: 0, count: 10) + body
        if fixChecksum { t[9] = 0 &- t.reduce(0, &+) }
        return t
    }

    func testQEMUsTable() throws {
        // QEMU's q35 DMAR: one unit for all devices, the IOAPIC (id 0) as bus 0xff device 0 function 0.
        let ioapic = Self.scope(type: 3, id: 0, bus: 0xff, path: [0, 0])
        let t = try DMARTable(table: Self.dmar([Self.drhd(base: 0xfed9_0000, scopes: ioapic)]))
        XCTAssertEqual(t.hostAddressWidth, 48)
        XCTAssertTrue(t.interruptRemapping)
        XCTAssertEqual(t.units, [.init(segment: 0, registerBase: 0xfed9_0000, includesAllDevices: true,
                                       ioapics: [.init(id: 0, sourceID: 0xff00)])])
        XCTAssertEqual(t.summary, "1 remapping unit (0xfed90000 all devices), 48-bit addresses, interrupt remapping")
    }

    func testSeveralUnitsReservedRegionsAndUnknownStructures() throws {
        let t = try DMARTable(table: Self.dmar([
            Self.drhd(base: 0xfed9_0000, all: false, scopes: Self.scope(type: 1, id: 0, bus: 0, path: [3, 0])
                      + Self.scope(type: 3, id: 2, bus: 0xf0, path: [0x1f, 7]) + Self.scope(type: 3, id: 3, bus: 0, path: [1, 0, 2, 0])),
            Self.rmrr(base: 0x7c00_0000, limit: 0x7c7f_ffff),
            Self.le16(3) + Self.le16(20) + [UInt8](repeating: 0, count: 16), // RHSA: skipped
            Self.drhd(base: 0xfed9_1000),
        ], width: 38, flags: 0))
        XCTAssertEqual(t.units.map { $0.registerBase }, [0xfed9_0000, 0xfed9_1000])
        // A PCI endpoint scope is not an IOAPIC; an IOAPIC behind a bridge (two hops) has no source ID of its own here.
        XCTAssertEqual(t.units[0].ioapics, [.init(id: 2, sourceID: 0xf0ff)])
        XCTAssertEqual(t.units[1].ioapics, [])
        XCTAssertEqual(t.reservedRegions, [.init(segment: 0, base: 0x7c00_0000, limit: 0x7c7f_ffff)])
        XCTAssertFalse(t.interruptRemapping)
        XCTAssertEqual(t.summary, "2 remapping units (0xfed90000, 0xfed91000 all devices), 39-bit addresses, 1 reserved regions")
    }

    func testBrokenTablesAreRefusedWithTheReason() {
        func refused(_ bytes: [UInt8]) -> DMARError? {
            do { _ = try DMARTable(table: bytes); return nil } catch { return error }
        }
        let good = Self.dmar([Self.drhd(base: 0xfed9_0000)])
        XCTAssertEqual(refused(Array(good.prefix(40))), .truncated(length: 40))
        var sig = good; sig[0] = 0x41
        XCTAssertEqual(refused(sig), .badSignature)
        XCTAssertEqual(refused(Array(good.dropLast())), .badLength(64))
        var sum = good; sum[40] ^= 1
        XCTAssertEqual(refused(sum), .badChecksum)
        XCTAssertEqual(refused(Self.dmar([])), .noRemappingUnit)
        XCTAssertEqual(refused(Self.dmar([Self.le16(0) + Self.le16(2)])), .structureOutOfBounds(offset: 48))
        XCTAssertEqual(refused(Self.dmar([Self.le16(0) + Self.le16(40)])), .structureOutOfBounds(offset: 48))
        XCTAssertEqual(refused(Self.dmar([Self.le16(0) + Self.le16(8) + [0, 0, 0, 0]])), .structureTooShort(offset: 48, type: 0, length: 8))
        XCTAssertEqual(refused(Self.dmar([Self.drhd(base: 0)])), .badRegisterBase(offset: 48, base: 0))
        XCTAssertEqual(refused(Self.dmar([Self.drhd(base: 0xfed9_0010)])), .badRegisterBase(offset: 48, base: 0xfed9_0010))
        XCTAssertEqual(refused(Self.dmar([Self.drhd(base: 0xfed9_0000), Self.rmrr(base: 0x2000, limit: 0x1fff)])),
                       .badReservedRegion(offset: 64, base: 0x2000, limit: 0x1fff))
        XCTAssertEqual(refused(Self.dmar([Self.drhd(base: 0xfed9_0000, scopes: [3, 0, 0, 0, 0, 0, 0, 0])])),
                       .badDeviceScope(offset: 64, length: 0))
        XCTAssertEqual(refused(Self.dmar([Self.drhd(base: 0xfed9_0000, scopes: [3, 10, 0, 0, 0, 0, 0, 0])])),
                       .badDeviceScope(offset: 64, length: 10), "runs past its unit")
        XCTAssertEqual(refused(Self.dmar([Self.drhd(base: 0xfed9_0000, scopes: Self.scope(type: 3, id: 0, bus: 0, path: [32, 0]))])),
                       .badDeviceScope(offset: 64, length: 8), "device 32 does not exist")
        XCTAssertEqual(DMARError.badDeviceScope(offset: 64, length: 0).description,
                       "DMAR device scope at offset 64 of 0 bytes is malformed (or runs past its unit)")
        XCTAssertEqual(DMARError.noRemappingUnit.description, "DMAR lists no remapping unit")
    }

    /// Random bytes behind a valid header never crash the parser: a table or a named error.
    func testRandomTablesNeverCrash() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let body = (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            var t = Self.dmar([body])
            if Bool.random(using: &rng) { t[4] = UInt8.random(in: 0...255, using: &rng) }
            _ = try? DMARTable(table: t)
        }
    }
}
