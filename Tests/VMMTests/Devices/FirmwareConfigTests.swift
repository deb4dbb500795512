import XCTest
@testable import DeviceModels

final class FirmwareConfigTests: XCTestCase {
    private func item(_ device: FirmwareConfig, key: UInt16, count: Int) -> [UInt8] {
        device.portWrite(FirmwareConfig.selectorPort, size: 2, value: UInt32(key))
        return (0..<count).map { _ in UInt8(device.portRead(FirmwareConfig.dataPort, size: 1)) }
    }

    func testSignatureIDCPUsAndRAMSize() {
        let device = FirmwareConfig(cpuCount: 4, ramSize: 0x1_2345_6000)
        XCTAssertEqual(item(device, key: 0x00, count: 4), Array("QEMU".utf8))
        XCTAssertEqual(item(device, key: 0x01, count: 4), [1, 0, 0, 0], "traditional interface, no DMA")
        XCTAssertEqual(item(device, key: 0x05, count: 2), [4, 0])
        XCTAssertEqual(item(device, key: 0x0f, count: 2), [4, 0])
        XCTAssertEqual(item(device, key: 0x03, count: 8), [0x00, 0x60, 0x45, 0x23, 0x01, 0, 0, 0])
        XCTAssertEqual(item(device, key: 0x19, count: 4), [0, 0, 0, 0], "empty file directory")
    }

    func testReadsPastTheEndAndUnknownKeysReturnZero() {
        let device = FirmwareConfig(cpuCount: 1, ramSize: 1 << 30)
        XCTAssertEqual(item(device, key: 0x00, count: 8), Array("QEMU".utf8) + [0, 0, 0, 0])
        XCTAssertEqual(item(device, key: 0x1234, count: 4), [0, 0, 0, 0])
        XCTAssertEqual(item(device, key: 0xffff, count: 2), [0, 0])
        // Selecting again rewinds.
        XCTAssertEqual(item(device, key: 0x00, count: 2), Array("QE".utf8))
        XCTAssertEqual(item(device, key: 0x00, count: 1), Array("Q".utf8))
    }

    func testOtherAccessesAreWhatQEMUsPortPairDoes() {
        let device = FirmwareConfig(cpuCount: 2, ramSize: 0)
        device.portWrite(FirmwareConfig.selectorPort, size: 2, value: 0x05)
        device.portWrite(FirmwareConfig.selectorPort, size: 1, value: 0x00)   // not a selector write
        device.portWrite(FirmwareConfig.selectorPort, size: 4, value: 0x00)
        device.portWrite(FirmwareConfig.dataPort, size: 1, value: 0x77)       // data writes are ignored
        XCTAssertEqual(device.selectedKey, 0x05)
        XCTAssertEqual(device.portRead(FirmwareConfig.dataPort, size: 2), 0xffff, "only byte reads of the data port")
        XCTAssertEqual(device.portRead(FirmwareConfig.selectorPort, size: 2), 0xffff)
        XCTAssertEqual(device.portRead(FirmwareConfig.dataPort, size: 1), 2, "the invalid accesses did not advance")
    }

    func testFilesAppearInTheDirectoryInNameOrder() throws {
        let device = FirmwareConfig(cpuCount: 1, ramSize: 0)
        try device.addFile(name: "etc/zeta", contents: [1, 2, 3])
        try device.addFile(name: "etc/alpha", contents: Array("hello".utf8))
        XCTAssertEqual(device.key(ofFile: "etc/alpha"), 0x20)
        XCTAssertEqual(device.key(ofFile: "etc/zeta"), 0x21)
        XCTAssertNil(device.key(ofFile: "etc/none"))
        let directory = item(device, key: 0x19, count: 4 + 2 * 64)
        XCTAssertEqual(Array(directory[0..<4]), [0, 0, 0, 2], "big-endian count")
        let first = Array(directory[4..<68])
        XCTAssertEqual(Array(first[0..<4]), [0, 0, 0, 5], "big-endian size")
        XCTAssertEqual(Array(first[4..<6]), [0, 0x20], "big-endian select")
        XCTAssertEqual(Array(first[8..<17]), Array("etc/alpha".utf8))
        XCTAssertEqual(Array(first[17..<64]), [UInt8](repeating: 0, count: 47))
        XCTAssertEqual(Array(directory[68 + 4..<68 + 6]), [0, 0x21])
        XCTAssertEqual(item(device, key: 0x20, count: 6), Array("hello".utf8) + [0])
        XCTAssertEqual(item(device, key: 0x21, count: 3), [1, 2, 3])

        XCTAssertThrowsError(try device.addFile(name: "etc/zeta", contents: [])) {
            XCTAssertEqual($0 as? FirmwareConfig.FileError, .duplicateName("etc/zeta"))
        }
        XCTAssertThrowsError(try device.addFile(name: "", contents: []))
        let long = String(repeating: "x", count: 56)
        XCTAssertThrowsError(try device.addFile(name: long, contents: [])) {
            XCTAssertEqual(($0 as? FirmwareConfig.FileError)?.message, "fw_cfg file name '\(long)' is longer than 55 bytes")
        }
        XCTAssertNoThrow(try device.addFile(name: String(repeating: "y", count: 55), contents: []))
    }
}
