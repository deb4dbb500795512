import XCTest
@testable import GuestBoot

/// The AML encoder against encodings worked out from the ACPI specification (20.2) and what iasl emits.
final class AMLTests: XCTestCase {
    func testPackageLength() {
        XCTAssertEqual(AML.packageLength(enclosing: 0), [0x01])
        XCTAssertEqual(AML.packageLength(enclosing: 62), [0x3f])
        // 63 bytes of content: 65 with a 2-byte PkgLength, 0x41 = 01 (one more byte) 00 0001, then 65 >> 4.
        XCTAssertEqual(AML.packageLength(enclosing: 63), [0x41, 0x04])
        XCTAssertEqual(AML.packageLength(enclosing: 4093), [0x4f, 0xff])
        XCTAssertEqual(AML.packageLength(enclosing: 4094), [0x81, 0x00, 0x01])  // 4097 = 0x1001
        XCTAssertEqual(AML.packageLength(enclosing: 0x10_0000), [0xc4, 0x00, 0x00, 0x01])  // 0x100004
    }

    func testIntegers() {
        XCTAssertEqual(AML.integer(0), [0x00])
        XCTAssertEqual(AML.integer(1), [0x01])
        XCTAssertEqual(AML.integer(5), [0x0a, 0x05])
        XCTAssertEqual(AML.integer(0x1234), [0x0b, 0x34, 0x12])
        XCTAssertEqual(AML.integer(0x1_ffff), [0x0c, 0xff, 0xff, 0x01, 0x00])
        XCTAssertEqual(AML.integer(0x1_0000_0000), [0x0e, 0, 0, 0, 0, 1, 0, 0, 0])
    }

    func testNamesAndEisaID() {
        XCTAssertEqual(AML.name("PCI0"), Array("PCI0".utf8))
        XCTAssertEqual(AML.name("\\_SB"), [0x5c, 0x5f, 0x53, 0x42, 0x5f])
        XCTAssertEqual(AML.eisaID("PNP0A03"), [0x0c, 0x41, 0xd0, 0x0a, 0x03])
        XCTAssertEqual(AML.eisaID("PNP0C0F"), [0x0c, 0x41, 0xd0, 0x0c, 0x0f])
    }

    func testS5Package() {
        // iasl: Name (\_S5, Package (0x04) { 0x05, 0x05, Zero, Zero })
        XCTAssertEqual(AML.nameObject("\\_S5_", AML.package([AML.integer(5), AML.integer(5), AML.integer(0), AML.integer(0)])),
                       [0x08, 0x5c, 0x5f, 0x53, 0x35, 0x5f, 0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00])
    }

    func testDeviceScopeAndBuffer() {
        XCTAssertEqual(AML.buffer([0x79, 0x00]), [0x11, 0x05, 0x0a, 0x02, 0x79, 0x00])
        XCTAssertEqual(AML.device("DEV0", []), [0x5b, 0x82, 0x05] + Array("DEV0".utf8))
        XCTAssertEqual(AML.scope("\\_SB_", [[0x01]]), [0x10, 0x07, 0x5c] + Array("_SB_".utf8) + [0x01])
    }

    func testResourceDescriptors() {
        // iasl: WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, 0, 0xFF, 0, 0x100)
        XCTAssertEqual(ResourceTemplate.busNumbers(0, 0xff),
                       [0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0, 0, 0, 0, 0xff, 0, 0, 0, 0x00, 0x01])
        // iasl: IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08)
        XCTAssertEqual(ResourceTemplate.ioPorts(0xcf8, count: 8), [0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08])
        let memory = ResourceTemplate.memoryWindow(0xc000_0000, 0xfebf_ffff)
        XCTAssertEqual(memory.count, 26)
        XCTAssertEqual(Array(memory[0..<6]), [0x87, 0x17, 0x00, 0x00, 0x0c, 0x01])
        XCTAssertEqual(Array(memory[22..<26]), [0x00, 0x00, 0xc0, 0x3e], "length 0x3ec00000")
    }
}
