import XCTest
@testable import GuestBoot

/// The setup-header parser, on Debian's cloud kernel (tools/linux-guest/build) and on hostile variants.
final class LinuxImageTests: XCTestCase {
    private func parse(_ bytes: [UInt8]) -> Result<LinuxImage, LinuxImageError> {
        do throws(LinuxImageError) { return .success(try LinuxImage(bytes: bytes)) } catch { return .failure(error) }
    }

    private func error(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> LinuxImageError? {
        switch parse(bytes) {
        case .success: XCTFail("accepted", file: file, line: line); return nil
        case .failure(let e): return e
        }
    }

    func testDebianKernelHeader() throws {
        let kernel = try LinuxGuestArtifacts.kernel()
        let release = try LinuxGuestArtifacts.kernelRelease()
        let image = try LinuxImage(bytes: kernel)
        // What Debian's x86-64 kernels are built with (CONFIG_PHYSICAL_START 16 MiB, CONFIG_PHYSICAL_ALIGN 2 MiB).
        XCTAssertGreaterThanOrEqual(image.protocolVersion, 0x020c)
        XCTAssertTrue(image.relocatable)
        XCTAssertEqual(image.preferredAddress, 0x100_0000)
        XCTAssertEqual(image.kernelAlignment, 0x20_0000)
        XCTAssertNotEqual(image.xloadFlags & 0x1, 0)
        XCTAssertEqual(image.loadFlags & 0x1, 1)
        // The protected-mode kernel follows the setup; a signed image carries its signature after it.
        XCTAssertEqual(image.setupSize, (UInt64(kernel[0x1f1]) + 1) * 512)
        XCTAssertLessThanOrEqual(image.setupSize + image.kernelSize, UInt64(kernel.count))
        XCTAssertGreaterThan(image.initSize, image.kernelSize)
        XCTAssertEqual(image.commandLineLimit, 2047)
        XCTAssertEqual(image.initrdAddressMax, 0x7fff_ffff)
        XCTAssertEqual(image.setupHeader.count, 0x202 + Int(kernel[0x201]) - 0x1f1)
        XCTAssertEqual(image.setupHeader, Array(kernel[0x1f1..<(0x202 + Int(kernel[0x201]))]))
        XCTAssertTrue(image.version?.hasPrefix(release + " ") ?? false, "\(image.version ?? "no version") vs \(release)")
    }

    func testSyntheticHeader() throws {
        let image = try LinuxImage(bytes: SyntheticBzImage().bytes)
        XCTAssertEqual(image.protocolDescription, "2.15")
        XCTAssertEqual(image.setupSectors, 4)
        XCTAssertEqual(image.setupSize, 5 * 512)
        XCTAssertEqual(image.kernelSize, UInt64(SyntheticBzImage.kernelSize))
        XCTAssertEqual(image.version, "9.9.9-synthetic")
        XCTAssertEqual(image.initSize, 0x10_0000)
    }

    /// Cut anywhere inside the header, the file is refused naming the first field it cuts off.
    func testTruncatedAtEveryHeaderField() {
        checkTruncations(of: SyntheticBzImage().bytes)
        XCTAssertEqual(error([]), .truncated(field: .setupSects, fileSize: 0))
    }

    func testDebianKernelTruncatedAtEveryHeaderField() throws {
        checkTruncations(of: try LinuxGuestArtifacts.kernel())
    }

    private func checkTruncations(of source: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        for field in SetupHeaderField.all {
            for cut in [field.offset, field.offset + field.width - 1] {
                XCTAssertEqual(error(Array(source[0..<cut])), .truncated(field: field, fileSize: UInt64(cut)),
                               "cut at \(cut) in \(field.name)", file: file, line: line)
            }
        }
    }

    func testDebianKernelCutAfterTheHeader() throws {
        let kernel = try LinuxGuestArtifacts.kernel()
        let image = try LinuxImage(bytes: kernel)
        // The setup is there but the protected-mode kernel is cut short.
        let short = Array(kernel[0..<Int(image.setupSize + image.kernelSize - 1)])
        XCTAssertEqual(error(short), .kernelBeyondFile(setupSize: image.setupSize, kernelSize: image.kernelSize,
                                                        fileSize: UInt64(short.count)))
        let setupOnly = Array(kernel[0..<Int(image.setupSize - 1)])
        XCTAssertEqual(error(setupOnly), .setupBeyondFile(setupSize: image.setupSize, fileSize: UInt64(setupOnly.count)))
    }

    func testWrongMagicAndBootFlag() {
        let s = SyntheticBzImage()
        XCTAssertEqual(error(s.with(0x202, 0x5372_6447, 4)), .notABzImage(magic: 0x5372_6447))
        XCTAssertEqual(error(s.with(0x1fe, 0x55aa, 2)), .badBootFlag(0x55aa))
        // An ELF file is not a bzImage either.
        var elf = [UInt8](repeating: 0, count: 0x1000)
        elf[0...3] = [0x7f, 0x45, 0x4c, 0x46]
        XCTAssertEqual(error(elf), .badBootFlag(0))
    }

    func testDebianKernelWithCorruptMagic() throws {
        var corrupt = try LinuxGuestArtifacts.kernel()
        corrupt[0x203] ^= 0xff
        XCTAssertEqual(error(corrupt), .notABzImage(magic: 0x5372_6448 ^ 0xff00))
    }

    func testOldProtocolVersions() {
        for version: UInt64 in [0x0200, 0x0206, 0x020a, 0x020b] {
            XCTAssertEqual(error(SyntheticBzImage().with(0x206, version, 2)), .protocolTooOld(UInt16(version)))
        }
        XCTAssertTrue(LinuxImageError.protocolTooOld(0x020b).description.contains("2.11"))
        XCTAssertNoThrow(try LinuxImage(bytes: SyntheticBzImage().with(0x206, 0x020c, 2)))
    }

    func testMissingEntryAndLoadFlags() {
        XCTAssertEqual(error(SyntheticBzImage().with(0x236, 0x7e, 2)), .no64BitEntry(xloadFlags: 0x7e))
        XCTAssertEqual(error(SyntheticBzImage().with(0x211, 0x80, 1)), .notLoadedHigh(loadFlags: 0x80))
    }

    func testHeaderLength() {
        // The jump's offset says where the header ends: before init_size, or past boot_params' room.
        XCTAssertEqual(error(SyntheticBzImage().with(0x201, 0x60, 1)), .badHeaderLength(end: 0x262))
        XCTAssertEqual(error(SyntheticBzImage().with(0x201, 0x90, 1)), .badHeaderLength(end: 0x292))
    }

    func testSetupSectors() throws {
        let s = SyntheticBzImage()
        // 255 sectors of setup: more than the file.
        XCTAssertEqual(error(s.with(0x1f1, 255, 1)), .setupBeyondFile(setupSize: 256 * 512, fileSize: UInt64(s.bytes.count)))
        // 0 means 4: the same as the synthetic image's own 4.
        let zero = try LinuxImage(bytes: s.with(0x1f1, 0, 1))
        XCTAssertEqual(zero.setupSectors, 4)
        XCTAssertEqual(zero.setupSize, 5 * 512)
        // 1 sector of setup: the kernel starts at 1024 (the header, ending by 0x290, always fits).
        XCTAssertEqual(try LinuxImage(bytes: s.with(0x1f1, 1, 1)).setupSize, 1024)
    }

    func testKernelSizes() {
        let s = SyntheticBzImage()
        XCTAssertEqual(error(s.with(0x1f4, 0, 4)), .noKernel)
        XCTAssertEqual(error(s.with(0x1f4, 0xffff_ffff, 4)),
                       .kernelBeyondFile(setupSize: 2560, kernelSize: 0xf_ffff_fff0, fileSize: UInt64(s.bytes.count)))
        XCTAssertEqual(error(s.with(0x260, 0x3fff, 4)), .initSizeTooSmall(initSize: 0x3fff, kernelSize: 0x4000))
    }

    func testAlignmentAndPreferredAddress() {
        let s = SyntheticBzImage()
        XCTAssertEqual(error(s.with(0x230, 0x30_0000, 4)), .badKernelAlignment(0x30_0000))
        XCTAssertEqual(error(s.with(0x230, 0x800, 4)), .badKernelAlignment(0x800))
        // A kernel that cannot move must be loadable at pref_address.
        let fixed = SyntheticBzImage().with(0x234, 0, 1)
        var low = SyntheticBzImage(); low.bytes = fixed; low.set(0x258, 0x8_0000, 8)
        XCTAssertEqual(error(low.bytes), .badPreferredAddress(0x8_0000))
        var wraps = SyntheticBzImage(); wraps.bytes = fixed; wraps.set(0x258, UInt64.max - 0x1000, 8)
        XCTAssertEqual(error(wraps.bytes), .badPreferredAddress(UInt64.max - 0x1000))
    }

    func testKernelVersionPointer() throws {
        // Past the setup code, or a string with no NUL before the setup's end.
        XCTAssertEqual(error(SyntheticBzImage().with(0x20e, 0x0a00, 2)), .badKernelVersionPointer(0x0a00))
        var s = SyntheticBzImage()
        for i in 0x300..<Int(s.bytes.count) { s.bytes[i] = 0x41 }
        XCTAssertEqual(error(s.bytes), .badKernelVersionPointer(0x100))
        XCTAssertNil(try LinuxImage(bytes: SyntheticBzImage().with(0x20e, 0, 2)).version)
    }

    func testDescriptionsNameTheField() {
        let e = LinuxImageError.truncated(field: .initSize, fileSize: 0x262)
        XCTAssertEqual(e.description, "truncated bzImage: the file (610 bytes) ends inside the setup header field init_size at 0x260 (4 bytes)")
    }
}
