import ManifestFormat
import XCTest

/// Encoding and decoding of compiled manifests, and the decoder's structural checks.
final class ManifestBlobTests: XCTestCase {
    func testRoundTrip() throws {
        XCTAssertEqual(try ManifestDecoder.decode(BlobFixtures.blob), BlobFixtures.system)
        let empty = SystemDescription(machineMemory: 0, interruptCount: 0, components: [], vms: [])
        XCTAssertEqual(try ManifestDecoder.decode(ManifestEncoder.encode(empty)), empty)
    }

    /// A kernel VM's disk survives the round trip; a test image with a disk is refused at the disk's string.
    func testDiskRoundTripsAndBelongsToKernelVMs() throws {
        var system = BlobFixtures.system
        system.vms[0].disk = "disk.img"
        XCTAssertEqual(try ManifestDecoder.decode(ManifestEncoder.encode(system)), system)
        system.vms[0].disk = nil
        system.vms[1].disk = "disk.img"
        guard case .badValue(_, .disk, _) = BlobFixtures.decodeError(ManifestEncoder.encode(system)) else {
            return XCTFail("a test image with a disk must be refused as a bad VM disk")
        }
    }

    func testHeaderFollowsTheDocumentedLayout() {
        let blob = BlobFixtures.blob
        XCTAssertEqual(Array(blob[0..<8]), Array("HVMANFST".utf8))
        XCTAssertEqual(blob[BlobLayout.versionOffset], 3)
        XCTAssertEqual(Int(blob[BlobLayout.lengthOffset]) | Int(blob[BlobLayout.lengthOffset + 1]) << 8, blob.count)
        XCTAssertEqual(blob[BlobLayout.componentCountOffset], 2)
        XCTAssertEqual(blob[BlobLayout.vmCountOffset], 2)
        XCTAssertEqual(blob[BlobLayout.interruptCountOffset], 24)
        // The serial record's own flag word says "restart on fault", the port count word says 1.
        XCTAssertEqual(blob[BlobFixtures.serialFlags], UInt8(BlobLayout.restartOnFaultFlag))
        XCTAssertEqual(blob[BlobFixtures.serialPortCount], 1)
    }

    func testIdenticalStringsAreStoredOnce() {
        let blob = BlobFixtures.blob
        let table = Int(blob[BlobLayout.stringTableOffsetOffset]) | Int(blob[BlobLayout.stringTableOffsetOffset + 1]) << 8
        let strings = String(decoding: blob[table...], as: UTF8.self)
        XCTAssertEqual(strings.components(separatedBy: "serial").count - 1, 1)
        XCTAssertEqual(strings.components(separatedBy: "log").count - 1, 1)
    }

    func testEveryTruncationIsATypedError() {
        let blob = BlobFixtures.blob
        for length in 0..<blob.count {
            let error = BlobFixtures.decodeError(Array(blob[..<length]))
            if length < BlobLayout.headerSize {
                XCTAssertEqual(error, .tooShort(size: length))
            } else {
                XCTAssertEqual(error, .truncated(declared: blob.count, actual: length))
            }
        }
        XCTAssertEqual(BlobFixtures.decodeError(blob + [0]), .trailingBytes(declared: blob.count, actual: blob.count + 1))
    }

    func testEverySingleByteCorruptionIsATypedError() {
        let blob = BlobFixtures.blob
        for offset in 0..<blob.count {
            for flip: UInt8 in [0x01, 0x80, 0xff] {
                var bad = blob
                bad[offset] ^= flip
                let error = BlobFixtures.decodeError(bad)
                switch offset {
                case 0..<8: XCTAssertEqual(error, .badMagic, "offset \(offset)")
                case 8..<12: XCTAssertEqual(error, .unsupportedVersion(ManifestDecoderProbe.u32(bad, 8)), "offset \(offset)")
                case 12..<16:
                    let declared = Int(ManifestDecoderProbe.u32(bad, 12))
                    XCTAssertEqual(error, declared > blob.count ? .truncated(declared: declared, actual: blob.count)
                                   : .trailingBytes(declared: declared, actual: blob.count), "offset \(offset)")
                default:
                    guard case .checksumMismatch = error else { return XCTFail("offset \(offset): \(String(describing: error))") }
                }
            }
        }
    }

    // MARK: structural checks (checksum fixed after the change)

    func testProviderIndexOutOfRange() {
        let bad = BlobFixtures.patched(BlobFixtures.blob, u32: 7, at: BlobFixtures.vmmRoute + 16)
        XCTAssertEqual(BlobFixtures.decodeError(bad),
                       .indexOutOfRange(offset: BlobFixtures.vmmRoute + 16, what: .provider, value: 7, count: 2))
    }

    func testProviderThatStartsLaterViolatesStartOrder() {
        let bad = BlobFixtures.patched(BlobFixtures.blob, u32: 1, at: BlobFixtures.vmmRoute + 16)
        XCTAssertEqual(BlobFixtures.decodeError(bad), .startOrder(offset: BlobFixtures.vmmRoute + 16, component: 1, needs: 1))
    }

    func testDependencyOnItselfViolatesStartOrder() {
        let bad = BlobFixtures.patched(BlobFixtures.blob, u32: 1, at: BlobFixtures.vmmDependency)
        XCTAssertEqual(BlobFixtures.decodeError(bad), .startOrder(offset: BlobFixtures.vmmDependency, component: 1, needs: 1))
    }

    func testServiceIndexOutOfRange() {
        let bad = BlobFixtures.patched(BlobFixtures.blob, u32: 3, at: BlobFixtures.vmmRoute + 20)
        XCTAssertEqual(BlobFixtures.decodeError(bad),
                       .indexOutOfRange(offset: BlobFixtures.vmmRoute + 20, what: .service, value: 3, count: 1))
    }

    func testStringOutsideTheTable() {
        let bad = BlobFixtures.patched(BlobFixtures.blob, u32: 0xffff, at: BlobFixtures.serialRecord)
        XCTAssertEqual(BlobFixtures.decodeError(bad), .stringOutOfTable(offset: BlobFixtures.serialRecord, what: .componentName))
        let long = BlobFixtures.patched(BlobFixtures.blob, u32: 0xffff_ffff, at: BlobFixtures.serialRecord + 4)
        XCTAssertEqual(BlobFixtures.decodeError(long), .stringOutOfTable(offset: BlobFixtures.serialRecord, what: .componentName))
    }

    func testEmptyRequiredString() {
        let bad = BlobFixtures.patched(BlobFixtures.blob, u32: 0, at: BlobFixtures.serialRecord + 12)
        XCTAssertEqual(BlobFixtures.decodeError(bad), .emptyString(offset: BlobFixtures.serialRecord + 8, what: .binary))
    }

    func testNonPrintableString() {
        var blob = BlobFixtures.blob
        let table = Int(ManifestDecoderProbe.u32(blob, BlobLayout.stringTableOffsetOffset))
        blob[table] = 0x07
        XCTAssertEqual(BlobFixtures.decodeError(BlobFixtures.resealed(blob)),
                       .stringNotPrintable(offset: BlobFixtures.serialRecord, what: .componentName))
    }

    func testUnknownFlags() {
        let bad = BlobFixtures.patched(BlobFixtures.blob, u32: 0x10, at: BlobFixtures.serialFlags)
        XCTAssertEqual(BlobFixtures.decodeError(bad), .unknownFlags(offset: BlobFixtures.serialFlags, what: .componentFlags, value: 0x10))
    }

    func testCountsThatRunPastTheRecords() {
        let bad = BlobFixtures.patched(BlobFixtures.blob, u32: 0xffff_ffff, at: BlobFixtures.serialPortCount)
        XCTAssertEqual(BlobFixtures.decodeError(bad),
                       .recordOverrun(offset: BlobFixtures.serialRecord + BlobLayout.componentFixedSize, what: .ioPorts))
        let components = BlobFixtures.patched(BlobFixtures.blob, u32: 1000, at: BlobLayout.componentCountOffset)
        XCTAssertEqual(BlobFixtures.decodeError(components), .recordOverrun(offset: BlobLayout.headerSize, what: .counts))
    }

    func testFewerRecordsThanBytesLeavesUnusedBytes() {
        let bad = BlobFixtures.patched(BlobFixtures.blob, u32: 1, at: BlobLayout.vmCountOffset)
        guard case .unusedRecordBytes = BlobFixtures.decodeError(bad) else { return XCTFail() }
    }

    func testStringTableOutsideTheBlob() {
        let bad = BlobFixtures.patched(BlobFixtures.blob, u32: 10, at: BlobLayout.stringTableOffsetOffset)
        guard case .badStringTable(offset: 10, _) = BlobFixtures.decodeError(bad) else { return XCTFail() }
    }

    func testVMRunByANonVMM() {
        let bad = BlobFixtures.patched(BlobFixtures.blob, u32: 0, at: BlobFixtures.guestRecord + 8)
        XCTAssertEqual(BlobFixtures.decodeError(bad), .notAVMM(offset: BlobFixtures.guestRecord + 8, component: 0))
    }

    func testUnknownImageKind() {
        let bad = BlobFixtures.patched(BlobFixtures.blob, u32: 9, at: BlobFixtures.guestRecord + 12)
        XCTAssertEqual(BlobFixtures.decodeError(bad), .unknownImageKind(offset: BlobFixtures.guestRecord + 12, value: 9))
    }

    func testInterruptBeyondTheMachine() {
        let bad = BlobFixtures.patched(BlobFixtures.blob, u64: 24, at: BlobFixtures.serialInterrupt)
        XCTAssertEqual(BlobFixtures.decodeError(bad), .badValue(offset: BlobFixtures.serialInterrupt, what: .interrupt, value: 24))
    }

    func testUnalignedMemoryQuota() {
        let bad = BlobFixtures.patched(BlobFixtures.blob, u64: 1000, at: BlobFixtures.serialRecord + 16)
        XCTAssertEqual(BlobFixtures.decodeError(bad), .badValue(offset: BlobFixtures.serialRecord + 16, what: .componentMemory, value: 1000))
    }

    func testMemoryBeyondTheMachine() {
        let bad = BlobFixtures.patched(BlobFixtures.blob, u64: 64 << 20, at: BlobLayout.machineMemoryOffset)
        XCTAssertEqual(BlobFixtures.decodeError(bad), .memoryExceedsMachine(total: 89 << 20, machine: 64 << 20))
    }

    func testResourceConflictsAndDuplicateNames() {
        var system = BlobFixtures.system
        system.components[1].interrupts = [4]
        guard case .resourceConflict(_, .interrupt, _) = BlobFixtures.decodeError(ManifestEncoder.encode(system)) else {
            return XCTFail()
        }
        system = BlobFixtures.system
        system.components[1].ioPorts = [PortRange(first: 0x3f0, count: 9)]
        guard case .resourceConflict(_, .ioPorts, _) = BlobFixtures.decodeError(ManifestEncoder.encode(system)) else {
            return XCTFail()
        }
        system = BlobFixtures.system
        system.components[1].name = "serial"
        XCTAssertEqual(BlobFixtures.decodeError(ManifestEncoder.encode(system)),
                       .duplicateName(offset: BlobFixtures.vmmRecord, what: .componentName))
        system = BlobFixtures.system
        system.vms[0].services[0].kind = "block"
        XCTAssertEqual(BlobFixtures.decodeError(ManifestEncoder.encode(system)),
                       .routeKindMismatch(offset: BlobFixtures.guestRecord + BlobLayout.vmFixedSize))
    }

    func testDescriptionsNameTheProblemAndOffset() {
        XCTAssertEqual(ManifestDecodeError.startOrder(offset: 0x9c, component: 1, needs: 2).description,
                       "manifest blob: component 1 needs component 2 (offset 0x9c), which does not start before it")
        XCTAssertEqual(ManifestDecodeError.truncated(declared: 100, actual: 60).description,
                       "manifest blob: truncated: header says 100 bytes, only 60 present")
        XCTAssertEqual(ManifestDecodeError.stringOutOfTable(offset: 48, what: .componentName).description,
                       "manifest blob: component name at offset 0x30 points outside the string table")
    }
}

/// Little-endian reads for the tests (the decoder's own helpers are internal).
enum ManifestDecoderProbe {
    static func u32(_ b: [UInt8], _ at: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[at + $1]) << (8 * UInt32($1)) }
    }
    static func u64(_ b: [UInt8], _ at: Int) -> UInt64 { UInt64(u32(b, at)) | UInt64(u32(b, at + 4)) << 32 }
}
