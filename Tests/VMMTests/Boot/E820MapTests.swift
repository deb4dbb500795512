import XCTest
@testable import GuestBoot

final class E820MapTests: XCTestCase {
    func testPCLikeMap() throws {
        let map = try E820Map(ramSize: 256 << 20, platform: GuestPlatform())
        XCTAssertEqual(map.entries, [
            E820Entry(address: 0, size: 0x9_fc00, type: .usable),
            E820Entry(address: 0x9_fc00, size: 0x6_0400, type: .reserved),
            E820Entry(address: 0x10_0000, size: (256 << 20) - 0x10_0000, type: .usable),
            E820Entry(address: 0xfec0_0000, size: 0x1000, type: .reserved),
            E820Entry(address: 0xfee0_0000, size: 0x1000, type: .reserved),
        ])
        // Sorted, non-overlapping.
        for (a, b) in zip(map.entries, map.entries.dropFirst()) { XCTAssertLessThanOrEqual(a.end, b.address) }
        XCTAssertEqual(map.type(of: 0xe_0000, size: 0x100), .reserved)
        XCTAssertEqual(map.type(of: 0x100_0000, size: 0x1000), .usable)
        XCTAssertNil(map.type(of: 0x9_f000, size: 0x1000), "straddles usable and reserved")
        XCTAssertNil(map.type(of: 0xc000_0000, size: 1), "the PCI window is a hole")
        XCTAssertNil(map.type(of: (256 << 20) - 0x1000, size: 0x2000), "runs past RAM")
    }

    func testRAMLimits() {
        XCTAssertThrowsError(try E820Map(ramSize: 0x1f_ffff, platform: GuestPlatform())) {
            XCTAssertEqual($0 as? E820Error, .ramTooSmall(ramSize: 0x1f_ffff, minimum: 0x20_0000))
        }
        XCTAssertNoThrow(try E820Map(ramSize: 0xc000_0000, platform: GuestPlatform()))
        XCTAssertThrowsError(try E820Map(ramSize: 0xc000_1000, platform: GuestPlatform())) {
            XCTAssertEqual($0 as? E820Error, .ramOverlapsMMIO(ramSize: 0xc000_1000, mmioStart: 0xc000_0000))
        }
        // Without a PCI window RAM may reach the IOAPIC.
        var noPCI = GuestPlatform()
        noPCI.pciHostBridge = nil
        XCTAssertNoThrow(try E820Map(ramSize: 0xfec0_0000, platform: noPCI))
    }
}
