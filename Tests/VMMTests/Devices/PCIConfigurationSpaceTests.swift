import XCTest
@testable import DeviceModels

final class PCIConfigurationSpaceTests: XCTestCase {
    private let identity = PCIFunctionIdentity(vendorID: 0x1234, deviceID: 0x5678, revision: 3, classCode: 0x02_00_00,
                                               subsystemVendorID: 0xabcd, subsystemID: 0xef01, interruptPin: 2)

    func testHeaderShowsTheIdentityAndIgnoresWritesToIt() {
        let space = PCIConfigurationSpace(identity: identity)
        XCTAssertEqual(space.read(offset: 0, size: 4), 0x5678_1234)
        XCTAssertEqual(space.read(offset: 8, size: 4), 0x0200_0003)
        XCTAssertEqual(space.read(offset: 0x2c, size: 4), 0xef01_abcd)
        XCTAssertEqual(space.read(offset: 0x3d, size: 1), 2)
        XCTAssertEqual(space.read(offset: 0x0e, size: 1), 0, "type 0 header, single function")
        for offset in [0x00, 0x08, 0x2c, 0x30, 0x34, 0x3d, 0x3e] {
            space.write(offset: offset, size: 4, value: 0xffff_ffff)
        }
        space.write(offset: 0x3c, size: 4, value: 0xffff_ff0b)  // line writable, pin and the rest not
        XCTAssertEqual(space.read(offset: 0, size: 4), 0x5678_1234)
        XCTAssertEqual(space.read(offset: 8, size: 4), 0x0200_0003)
        XCTAssertEqual(space.read(offset: 0x2c, size: 4), 0xef01_abcd)
        XCTAssertEqual(space.read(offset: 0x30, size: 4), 0, "no expansion ROM")
        XCTAssertEqual(space.read(offset: 0x34, size: 1), 0, "no capabilities yet")
        XCTAssertEqual(space.read(offset: 0x3c, size: 2), 0x020b)
        XCTAssertEqual(space.interruptLine, 0x0b)
    }

    func testCommandRegisterKeepsOnlyImplementedBitsAndStatusIsReadOnly() {
        let space = PCIConfigurationSpace(identity: identity)
        space.write(offset: 4, size: 4, value: 0xffff_ffff)
        XCTAssertEqual(space.command, 0x0547)
        XCTAssertTrue(space.decodesIO && space.decodesMemory && space.isBusMaster && space.interruptDisabled)
        XCTAssertEqual(space.status, 0, "status bits are not guest-writable")
        space.setInterruptStatus(true)
        XCTAssertEqual(space.status, 0x0008)
        space.write(offset: 6, size: 2, value: 0xffff)
        XCTAssertEqual(space.status, 0x0008)
        space.setInterruptStatus(false)
        XCTAssertEqual(space.status, 0)
        space.write(offset: 4, size: 2, value: 0)
        XCTAssertEqual(space.command, 0)
    }

    func testBARSizingReadsBackTheSizeMaskForEveryKind() throws {
        let space = PCIConfigurationSpace(identity: identity)
        try space.defineBAR(0, XCTUnwrap(PCIBaseAddressRegister(kind: .io, size: 32)))
        try space.defineBAR(1, XCTUnwrap(PCIBaseAddressRegister(kind: .memory32, size: 0x1000, prefetchable: true)))
        try space.defineBAR(2, XCTUnwrap(PCIBaseAddressRegister(kind: .memory64, size: 0x4000)))
        XCTAssertEqual(space.read(offset: 0x10, size: 4), 0x1, "I/O space indicator")
        XCTAssertEqual(space.read(offset: 0x14, size: 4), 0x8, "32-bit prefetchable")
        XCTAssertEqual(space.read(offset: 0x18, size: 4), 0x4, "64-bit")
        for offset in stride(from: 0x10, to: 0x28, by: 4) { space.write(offset: offset, size: 4, value: 0xffff_ffff) }
        XCTAssertEqual(space.read(offset: 0x10, size: 4), 0xffff_ffe1)
        XCTAssertEqual(space.read(offset: 0x14, size: 4), 0xffff_f008)
        XCTAssertEqual(space.read(offset: 0x18, size: 4), 0xffff_c004)
        XCTAssertEqual(space.read(offset: 0x1c, size: 4), 0xffff_ffff, "upper half of the 64-bit BAR")
        XCTAssertEqual(space.read(offset: 0x20, size: 4), 0, "undefined BARs read as zero")
        XCTAssertEqual(space.read(offset: 0x24, size: 4), 0)
    }

    func testLargeSixtyFourBitBARMasksTheUpperHalfToo() throws {
        let space = PCIConfigurationSpace(identity: identity)
        try space.defineBAR(4, XCTUnwrap(PCIBaseAddressRegister(kind: .memory64, size: 1 << 33, prefetchable: true)))
        space.write(offset: 0x20, size: 4, value: 0xffff_ffff)
        space.write(offset: 0x24, size: 4, value: 0xffff_ffff)
        XCTAssertEqual(space.read(offset: 0x20, size: 4), 0x0000_000c)
        XCTAssertEqual(space.read(offset: 0x24, size: 4), 0xffff_fffe)
    }

    func testDecodedRegionFollowsTheBaseAndTheCommandRegister() throws {
        let space = PCIConfigurationSpace(identity: identity)
        try space.defineBAR(0, XCTUnwrap(PCIBaseAddressRegister(kind: .io, size: 32)))
        try space.defineBAR(2, XCTUnwrap(PCIBaseAddressRegister(kind: .memory64, size: 0x4000)))
        space.write(offset: 0x10, size: 4, value: 0xc040)
        space.write(offset: 0x18, size: 4, value: 0xfe00_0000)
        space.write(offset: 0x1c, size: 4, value: 0x1)
        XCTAssertNil(space.decodedRegion(0), "I/O decoding off")
        XCTAssertNil(space.decodedRegion(2), "memory decoding off")
        space.write(offset: 4, size: 2, value: 0x3)
        XCTAssertEqual(space.decodedRegion(0), PCIBARRegion(bar: 0, kind: .io, base: 0xc040, size: 32))
        XCTAssertEqual(space.decodedRegion(2), PCIBARRegion(bar: 2, kind: .memory64, base: 0x1_fe00_0000, size: 0x4000))
        XCTAssertNil(space.decodedRegion(3), "upper half is no BAR of its own")
        space.write(offset: 0x10, size: 4, value: 0x1_0000)
        XCTAssertNil(space.decodedRegion(0), "I/O BAR above port 0xffff decodes nothing")
        space.write(offset: 0x18, size: 4, value: 0)
        space.write(offset: 0x1c, size: 4, value: 0)
        XCTAssertNil(space.decodedRegion(2), "base 0 is unprogrammed")
    }

    func testBARDefinitionsAreChecked() throws {
        XCTAssertNil(PCIBaseAddressRegister(kind: .io, size: 512), "I/O BARs are at most 256 bytes")
        XCTAssertNil(PCIBaseAddressRegister(kind: .io, size: 2))
        XCTAssertNil(PCIBaseAddressRegister(kind: .io, size: 16, prefetchable: true))
        XCTAssertNil(PCIBaseAddressRegister(kind: .memory32, size: 0x3000), "not a power of two")
        XCTAssertNil(PCIBaseAddressRegister(kind: .memory32, size: 1 << 32))
        XCTAssertNil(PCIBaseAddressRegister(kind: .memory64, size: 8))
        let space = PCIConfigurationSpace(identity: identity)
        let wide = try XCTUnwrap(PCIBaseAddressRegister(kind: .memory64, size: 0x1000))
        let small = try XCTUnwrap(PCIBaseAddressRegister(kind: .memory32, size: 0x1000))
        XCTAssertThrowsError(try space.defineBAR(5, wide)) {
            XCTAssertEqual($0 as? PCIConfigurationError, .barIndexOutOfRange(5))
        }
        XCTAssertThrowsError(try space.defineBAR(6, small))
        try space.defineBAR(2, wide)
        XCTAssertThrowsError(try space.defineBAR(3, small)) {
            XCTAssertEqual($0 as? PCIConfigurationError, .barAlreadyDefined(3))
        }
        XCTAssertThrowsError(try space.defineBAR(2, small))
        try space.defineBAR(1, small)
        XCTAssertThrowsError(try space.defineBAR(0, wide)) {
            XCTAssertEqual($0 as? PCIConfigurationError, .barAlreadyDefined(1))
            XCTAssertTrue(($0 as? PCIConfigurationError)?.message.contains("BAR 1") ?? false)
        }
    }

    func testCapabilitiesFormAChainWithTheirOwnMasks() throws {
        let space = PCIConfigurationSpace(identity: identity)
        let first = try space.addCapability(id: 0x09, payload: [5, 1, 2])
        let second = try space.addCapability(id: 0x05, payload: [0, 0, 0, 0, 0, 0], writableMask: [0, 0xff, 0, 0, 0, 0x0f])
        XCTAssertEqual(first, 0x40)
        XCTAssertEqual(second, 0x48, "the next capability starts dword aligned")
        XCTAssertEqual(space.status & 0x10, 0x10, "capabilities list bit")
        XCTAssertEqual(space.read(offset: 0x34, size: 1), 0x40)
        XCTAssertEqual(space.read(offset: 0x40, size: 4), 0x0105_4809)
        XCTAssertEqual(space.read(offset: 0x49, size: 1), 0, "end of the chain")
        space.write(offset: 0x40, size: 4, value: 0xffff_ffff)
        XCTAssertEqual(space.read(offset: 0x40, size: 4), 0x0105_4809, "read-only capability")
        space.write(offset: 0x48, size: 4, value: 0xffff_ffff)
        space.write(offset: 0x4c, size: 4, value: 0xffff_ffff)
        XCTAssertEqual(space.read(offset: 0x48, size: 4), 0xff00_0005, "ID and next stay, payload[1] is writable")
        XCTAssertEqual(space.read(offset: 0x4c, size: 4), 0x0f00_0000, "only the low nibble of payload[5]")
        XCTAssertThrowsError(try space.addCapability(id: 1, payload: [1], writableMask: [])) {
            XCTAssertEqual($0 as? PCIConfigurationError, .capabilityMaskLengthMismatch(payload: 1, mask: 0))
        }
        XCTAssertThrowsError(try space.addCapability(id: 1, payload: [UInt8](repeating: 0, count: 200))) {
            guard case .capabilitySpaceFull = $0 as? PCIConfigurationError else { return XCTFail("\($0)") }
        }
    }

    func testAccessesOutsideTheSpaceOrOfOddSizesFloat() {
        let space = PCIConfigurationSpace(identity: identity)
        XCTAssertEqual(space.read(offset: 255, size: 2), 0xffff)
        XCTAssertEqual(space.read(offset: 256, size: 1), 0xff)
        XCTAssertEqual(space.read(offset: -1, size: 1), 0xff)
        XCTAssertEqual(space.read(offset: 0, size: 3), 0xff_ffff)
        XCTAssertEqual(space.read(offset: 0, size: 8), 0xffff_ffff)
        space.write(offset: 0x3c, size: 3, value: 0x11)
        space.write(offset: 254, size: 4, value: 0x11)
        XCTAssertEqual(space.read(offset: 0x3c, size: 1), 0)
    }
}
