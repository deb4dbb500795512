import XCTest
@testable import GuestBoot

/// boot_params as Linux documents it: the offsets below are copied from Documentation/arch/x86/zero-page.rst and
/// boot.rst ("Offset/Size" columns), not from the code under test.
final class BootParamsTests: XCTestCase {
    func testOffsetsMatchLinuxDocumentation() {
        XCTAssertEqual(BootParams.acpiRSDPAddress, 0x070)
        XCTAssertEqual(BootParams.extRamdiskImage, 0x0c0)
        XCTAssertEqual(BootParams.extRamdiskSize, 0x0c4)
        XCTAssertEqual(BootParams.extCmdLinePtr, 0x0c8)
        XCTAssertEqual(BootParams.e820EntryCount, 0x1e8)
        XCTAssertEqual(BootParams.sentinel, 0x1ef)
        XCTAssertEqual(BootParams.e820Table, 0x2d0)
        // e820_table is 0xa00 bytes of 128 entries: 20 bytes each (u64 addr, u64 size, u32 type).
        XCTAssertEqual(BootParams.e820EntrySize * E820Map.maximumEntries, 0xa00)
        let documented: [(SetupHeaderField, Int, Int)] = [
            (.setupSects, 0x1f1, 1), (.rootFlags, 0x1f2, 2), (.syssize, 0x1f4, 4), (.ramSize, 0x1f8, 2),
            (.vidMode, 0x1fa, 2), (.rootDev, 0x1fc, 2), (.bootFlag, 0x1fe, 2), (.jump, 0x200, 2), (.header, 0x202, 4),
            (.version, 0x206, 2), (.realmodeSwitch, 0x208, 4), (.startSysSeg, 0x20c, 2), (.kernelVersion, 0x20e, 2),
            (.typeOfLoader, 0x210, 1), (.loadFlags, 0x211, 1), (.setupMoveSize, 0x212, 2), (.code32Start, 0x214, 4),
            (.ramdiskImage, 0x218, 4), (.ramdiskSize, 0x21c, 4), (.bootsectKludge, 0x220, 4), (.heapEndPtr, 0x224, 2),
            (.extLoaderVersion, 0x226, 1), (.extLoaderType, 0x227, 1), (.cmdLinePtr, 0x228, 4),
            (.initrdAddressMax, 0x22c, 4), (.kernelAlignment, 0x230, 4), (.relocatableKernel, 0x234, 1),
            (.minAlignment, 0x235, 1), (.xloadFlags, 0x236, 2), (.cmdlineSize, 0x238, 4), (.hardwareSubarch, 0x23c, 4),
            (.hardwareSubarchData, 0x240, 8), (.payloadOffset, 0x248, 4), (.payloadLength, 0x24c, 4),
            (.setupData, 0x250, 8), (.preferredAddress, 0x258, 8), (.initSize, 0x260, 4), (.handoverOffset, 0x264, 4),
        ]
        XCTAssertEqual(documented.count, SetupHeaderField.all.count)
        for (field, offset, width) in documented {
            XCTAssertEqual(field.offset, offset, field.name)
            XCTAssertEqual(field.width, width, field.name)
        }
        // The fields are contiguous in file order.
        for (a, b) in zip(SetupHeaderField.all, SetupHeaderField.all.dropFirst()) {
            XCTAssertEqual(a.offset + a.width, b.offset, "\(a.name) -> \(b.name)")
        }
    }

    func testContents() throws {
        let image = try LinuxImage(bytes: SyntheticBzImage().bytes)
        let e820 = try E820Map(ramSize: 64 << 20, platform: GuestPlatform())
        let page = BootParams.make(image: image, .init(kernelAddress: 0x100_0000, commandLineAddress: 0x3000,
                                                       initrdAddress: 0x123_4000, initrdSize: 0x5678,
                                                       rsdpAddress: 0xe_0000, e820: e820))
        let p = LittleEndianBytes(bytes: page)
        XCTAssertEqual(page.count, 4096)
        // The setup header is copied from the file, then the loader's fields written over it.
        XCTAssertEqual(p.u32(0x202), 0x5372_6448)
        XCTAssertEqual(p.u16(0x1fe), 0xaa55)
        XCTAssertEqual(p.u16(0x206), 0x020f)
        XCTAssertEqual(p.u32(0x260), 0x10_0000)
        XCTAssertEqual(p.u8(0x210), 0xff, "type_of_loader: undefined")
        XCTAssertEqual(p.u32(0x228), 0x3000)
        XCTAssertEqual(p.u32(0x0c8), 0)
        XCTAssertEqual(p.u32(0x218), 0x123_4000)
        XCTAssertEqual(p.u32(0x21c), 0x5678)
        XCTAssertEqual(p.u32(0x0c0), 0)
        XCTAssertEqual(p.u32(0x0c4), 0)
        XCTAssertEqual(p.u32(0x214), 0x100_0000)
        XCTAssertEqual(p.u64(0x070), 0xe_0000)
        XCTAssertEqual(p.u8(0x1ef), 0, "sentinel")
        XCTAssertEqual(Int(p.u8(0x1e8)), e820.entries.count)
        for (i, entry) in e820.entries.enumerated() {
            XCTAssertEqual(p.u64(0x2d0 + 20 * i), entry.address)
            XCTAssertEqual(p.u64(0x2d0 + 20 * i + 8), entry.size)
            XCTAssertEqual(p.u32(0x2d0 + 20 * i + 16), entry.type.rawValue)
        }
        // Nothing else is written: the page below the header and past the e820 table is zero but for the above.
        let written: Set<Int> = Set([0x070..<0x078, 0x1e8..<0x1e9, 0x1f1..<0x26c,
                                     0x2d0..<(0x2d0 + 20 * e820.entries.count)].flatMap { Array($0) })
        for i in 0..<4096 where !written.contains(i) { XCTAssertEqual(page[i], 0, "byte 0x\(String(i, radix: 16))") }
    }
}

extension LittleEndianBytes {
    init(bytes: [UInt8]) {
        self.init(count: 0)
        append(bytes)
    }
}
