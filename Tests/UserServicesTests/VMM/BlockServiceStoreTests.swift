import BlockService
import DeviceModels
import KernelABI
import UserRuntime
import XCTest
@testable import VMM

/// The VMM's disk store on a `block` service (VMM/Monitor/BlockServiceStore.swift) against a fake block driver that
/// serves the real `BlockSession`'s calls from a byte array: guest bytes go through the one bounce buffer in pieces
/// of its size, the disk is writable, every failure of the service fails the access (the device makes it IOERR) with
/// its reason kept for the log, a driver that dies and comes back costs nothing, one that stays away fails cleanly,
/// and requests outside the disk never reach the service.
final class BlockServiceStoreTests: XCTestCase {
    /// A platform whose portal calls are served by an in-process block driver reading and writing `disk`; the
    /// attached buffer is the caller's memory (the real driver's device DMAs into the same pages).
    final class FakeBlockDriver: WordMemoryPlatform {
        var memory: [UInt64: UInt64] = [:]
        var componentState: AnyObject?
        var now: UInt64 = 0
        var utcbAddress: UInt64 { Self.utcbBase }
        var disk: [UInt8]
        var sectorSize: UInt64 = 512
        /// Pages the driver says it holds after an attach.
        var attachPages: UInt64 = 8
        var attachedPage: UInt64?
        var attachedPages: UInt64 = 0
        var inFlight: [UInt64: BlockRequest] = [:]
        var nextTag: UInt64 = 1
        /// Every request the driver took, in order.
        var submitted: [BlockRequest] = []
        var attaches = 0
        /// The next submits answer with this error (the device failed them).
        var failWith: BlockRequestError?
        /// The `dieAtSubmit`-th submit kills the driver: that call and the next two are answered `aborted`, two
        /// more find the slot empty (`badSelector`), then a new run answers (nothing attached, nothing in flight).
        /// With `neverBack` it stays `gone` (every call `badSelector`).
        var dieAtSubmit: Int?
        var neverBack = false
        var gone = false
        private var deadCalls = 0
        private var submits = 0

        static let utcbBase: UInt64 = 0x10000
        static let bufferAddress: UInt64 = 0x40_0000
        var utcb: UTCB<FakeBlockDriver> { UTCB(platform: self, base: Self.utcbBase) }

        init(sectors: Int) {
            disk = (0..<sectors * 512).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        }

        func timestamp() -> UInt64 { now }

        func hypercall(_ number: UInt64, _ a0: UInt64, _ a1: UInt64, _ a2: UInt64, _ a3: UInt64, _ a4: UInt64,
                       _ a5: UInt64) -> (rax: UInt64, rdi: UInt64, rsi: UInt64) {
            switch Hypercall(rawValue: number) {
            case .ctrlSM?:
                // The session's sleep between reconnection attempts: time passes.
                if a1 == SemaphoreOp.downTimed.rawValue { now = max(now, a2); return (Status.timeout.rawValue, 0, 0) }
                return (Status.success.rawValue, 0, 0)
            case .call?:
                if gone { return (Status.badSelector.rawValue, 0, 0) }
                if deadCalls > 0 {
                    let status: Status = deadCalls > 2 ? .aborted : .badSelector
                    deadCalls -= 1
                    if deadCalls == 0 { attachedPage = nil; inFlight = [:] }  // a new run
                    return (status.rawValue, 0, 0)
                }
                return serve()
            default:
                return (Status.success.rawValue, 0, 0)
            }
        }

        private func reply(_ words: [UInt64]) -> (rax: UInt64, rdi: UInt64, rsi: UInt64) {
            utcb.setMessage(untyped: words)
            return (Status.success.rawValue, 0, 0)
        }

        private func refuse(_ e: BlockRequestError) -> (rax: UInt64, rdi: UInt64, rsi: UInt64) {
            reply([Status.badRange.rawValue, e.rawValue])
        }

        private func serve() -> (rax: UInt64, rdi: UInt64, rsi: UInt64) {
            let words = (0..<utcb.untypedCount).map { utcb.data($0) }
            let sectors = UInt64(disk.count) / 512
            switch BlockOperation(rawValue: words.first ?? 0) {
            case .info?: return reply([Status.success.rawValue, sectors, sectorSize, 8])
            case .statistics?: return reply([Status.success.rawValue, 0, 0])
            case .attach?:
                guard attachedPage == nil else { return (Status.badRange.rawValue, 0, 0) }
                guard utcb.typedCount == 1 else { return refuse(.malformed) }
                attaches += 1
                // The typed item follows the untyped words: the buffer's CRD, then where it lands in the driver.
                guard let crd = CapabilityRange(word: utcb.data(words.count)) else { return refuse(.malformed) }
                attachedPage = crd.base
                attachedPages = attachPages
                return reply([Status.success.rawValue, attachPages])
            case .submit?:
                guard words.count >= 5, let kind = BlockRequestKind(rawValue: words[1]) else { return refuse(.badKind) }
                let r = BlockRequest(kind: kind, sector: words[2], count: words[3], offset: words[4])
                let buffer = attachedPage.map { _ in attachedPages * 4096 }
                if let e = r.check(sectors: sectors, bufferBytes: buffer, inFlight: Array(inFlight.values)) { return refuse(e) }
                submits += 1
                submitted.append(r)
                if submits == dieAtSubmit {
                    if neverBack { gone = true } else { deadCalls = 4 }
                    return (Status.aborted.rawValue, 0, 0)
                }
                if let e = failWith { return refuse(e) }
                perform(r)
                let tag = nextTag
                nextTag += 1
                inFlight[tag] = r
                return reply([Status.success.rawValue, tag])
            case .wait?:
                guard words.count >= 2, inFlight.removeValue(forKey: words[1]) != nil else { return refuse(.unknownTag) }
                return reply([Status.success.rawValue, 0])
            case nil: return refuse(.malformed)
            }
        }

        /// What the device does, at once: between `disk` and the attached buffer (the caller's pages).
        private func perform(_ r: BlockRequest) {
            guard let page = attachedPage, r.kind != .flush else { return }
            let base = page << AddressLayout.pageShift
            for i in 0..<Int(r.bytes) {
                let at = Int(r.sector) * 512 + i
                if r.kind == .read { store8(base + r.offset + UInt64(i), disk[at]) } else { disk[at] = load8(base + r.offset + UInt64(i)) }
            }
        }
    }

    func connect(_ driver: FakeBlockDriver, order: UInt64 = 3) -> Result<BlockServiceStore<FakeBlockDriver>, DiskServiceError> {
        let session = BlockSession(client: BlockClient(utcb: driver.utcb, portal: 40),
                                   bufferPage: FakeBlockDriver.bufferAddress >> AddressLayout.pageShift, bufferOrder: order,
                                   sleepSM: 41, ticksPerMillisecond: 1000)
        return BlockServiceStore.connect(session: session, platform: driver, bufferAddress: FakeBlockDriver.bufferAddress,
                                         bufferOrder: order)
    }

    func pattern(_ count: Int, seed: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ seed) } }

    func testGuestBytesGoThroughTheBufferInPiecesOfItsSizeAndTheDiskIsWritable() throws {
        let driver = FakeBlockDriver(sectors: 2048)
        let store = try connect(driver).get()
        XCTAssertEqual(store.byteCount, 2048 * 512)
        XCTAssertFalse(store.isReadOnly)
        XCTAssertEqual(store.bufferBytes, 32 * 1024)
        XCTAssertEqual(driver.attachedPage, FakeBlockDriver.bufferAddress >> 12, "the buffer is delegated once")

        let bytes = pattern(48 * 1024, seed: 5)
        XCTAssertTrue(store.write(at: 16 * 512, bytes))
        XCTAssertEqual(driver.submitted, [BlockRequest(kind: .write, sector: 16, count: 64, offset: 0),
                                          BlockRequest(kind: .write, sector: 80, count: 32, offset: 0)])
        XCTAssertEqual(Array(driver.disk[(16 * 512)..<(16 * 512 + bytes.count)]), bytes, "the driver's disk holds them")
        XCTAssertTrue(store.flush())
        XCTAssertEqual(driver.submitted.last, BlockRequest(kind: .flush, sector: 0, count: 0, offset: 0))
        XCTAssertEqual(store.read(at: 16 * 512, count: bytes.count), bytes)
        // What was on the disk before, read in one piece.
        let before = FakeBlockDriver(sectors: 2048).disk
        XCTAssertEqual(store.read(at: 1000 * 512, count: 4096), Array(before[(1000 * 512)..<(1000 * 512 + 4096)]))
        XCTAssertEqual(store.read(at: 0, count: 0), [])
        XCTAssertEqual(store.takeFailures(), [])
    }

    func testAFailedRequestFailsTheAccessAndItsReasonIsKeptForTheLog() throws {
        let driver = FakeBlockDriver(sectors: 256)
        let store = try connect(driver).get()
        driver.failWith = .deviceError
        XCTAssertFalse(store.write(at: 8 * 512, pattern(1024, seed: 1)))
        XCTAssertNil(store.read(at: 0, count: 512))
        XCTAssertFalse(store.flush())
        XCTAssertEqual(store.takeFailures(), [
            "write of 1024 bytes at sector 8: the device reported an error (bad range)",
            "read of 512 bytes at sector 0: the device reported an error (bad range)",
            "flush: the device reported an error (bad range)",
        ])
        XCTAssertEqual(store.takeFailures(), [], "taken once")
        // A guest retrying forever keeps the list short.
        for _ in 0..<100 { _ = store.read(at: 0, count: 512) }
        XCTAssertEqual(store.takeFailures().count, BlockServiceStore<FakeBlockDriver>.maxFailures)
        driver.failWith = nil
        XCTAssertNotNil(store.read(at: 0, count: 512), "the next request is served again")
    }

    func testADriverThatDiesMidWriteIsReconnectedAndTheWriteLands() throws {
        let driver = FakeBlockDriver(sectors: 512)
        let store = try connect(driver).get()
        driver.dieAtSubmit = 2  // the second piece of this write
        let bytes = pattern(40 * 1024, seed: 9)
        XCTAssertTrue(store.write(at: 64 * 512, bytes))
        XCTAssertEqual(store.session.reconnections, 1)
        XCTAssertEqual(driver.attaches, 2, "the buffer is attached again to the new driver")
        XCTAssertEqual(Array(driver.disk[(64 * 512)..<(64 * 512 + bytes.count)]), bytes)
        XCTAssertEqual(store.read(at: 64 * 512, count: bytes.count), bytes)
    }

    func testADriverThatStaysAwayFailsTheAccessInsteadOfHanging() throws {
        let driver = FakeBlockDriver(sectors: 512)
        let store = try connect(driver).get()
        driver.dieAtSubmit = 1
        driver.neverBack = true
        XCTAssertNil(store.read(at: 0, count: 512))
        XCTAssertEqual(store.takeFailures(), [
            "read of 512 bytes at sector 0: the block service's provider is gone (not restarted in time) (aborted)",
        ])
        XCTAssertFalse(store.write(at: 0, pattern(512, seed: 2)))
        XCTAssertGreaterThanOrEqual(driver.now, store.session.reconnectMilliseconds * 1000, "it waited its time first")
    }

    func testRequestsOutsideTheDiskOrNotWholeSectorsNeverReachTheService() throws {
        let driver = FakeBlockDriver(sectors: 64)
        let store = try connect(driver).get()
        XCTAssertNil(store.read(at: 100, count: 512))
        XCTAssertNil(store.read(at: 0, count: 100))
        XCTAssertNil(store.read(at: 63 * 512, count: 1024))
        XCTAssertNil(store.read(at: UInt64.max - 511, count: 512))
        XCTAssertNil(store.read(at: 0, count: -512))
        XCTAssertFalse(store.write(at: 64 * 512, pattern(512, seed: 0)))
        XCTAssertFalse(store.write(at: 8, pattern(512, seed: 0)))
        XCTAssertEqual(driver.submitted, [])
        XCTAssertNotNil(store.read(at: 63 * 512, count: 512), "the last sector is inside")
    }

    func testAServiceTheVirtioDiskCannotServeIsRefusedSayingWhy() {
        func failure(_ setUp: (FakeBlockDriver) -> Void) -> String? {
            let driver = FakeBlockDriver(sectors: 64)
            setUp(driver)
            guard case .failure(let e) = connect(driver) else { return nil }
            return e.description
        }
        XCTAssertEqual(failure { $0.sectorSize = 4096 },
                       "it has 4096-byte sectors; the virtio disk serves 512-byte sectors")
        XCTAssertEqual(failure { $0.disk = [] }, "it reports 0 sectors")
        XCTAssertEqual(failure { $0.attachPages = 0 }, "the driver took 0 pages of the buffer")
        XCTAssertEqual(failure { $0.attachedPage = 7 }, "attach failed: bad range")
        XCTAssertEqual(failure { $0.gone = true },
                       "info failed: the block service's provider is gone (not restarted in time) (aborted)")
        // A driver holding fewer pages than offered: pieces of what it holds.
        let driver = FakeBlockDriver(sectors: 64)
        driver.attachPages = 2
        XCTAssertEqual(try connect(driver).get().bufferBytes, 8192)
    }

    /// Random accesses, many outside the disk or misaligned, against a plain array: the same answers, the same bytes.
    func testRandomAccessesAgreeWithAPlainArray() throws {
        var random = SeededRandom(seed: 0x5eed)
        let driver = FakeBlockDriver(sectors: 300)
        var model = driver.disk
        let store = try connect(driver, order: 2).get()
        for step in 0..<300 {
            let sector = UInt64(random.next() % 320)
            let offset = random.next() % 8 == 0 ? sector * 512 + random.next() % 512 : sector * 512
            let count = Int(random.next() % 40) * 512 + (random.next() % 10 == 0 ? Int(random.next() % 512) : 0)
            let fits = offset % 512 == 0 && count % 512 == 0 && offset + UInt64(count) <= UInt64(model.count)
            if random.next() % 2 == 0 {
                let bytes = pattern(count, seed: step)
                XCTAssertEqual(store.write(at: offset, bytes), fits, "step \(step)")
                if fits { model.replaceSubrange(Int(offset)..<(Int(offset) + count), with: bytes) }
            } else {
                let read = store.read(at: offset, count: count)
                XCTAssertEqual(read, fits ? Array(model[Int(offset)..<(Int(offset) + count)]) : nil, "step \(step)")
            }
        }
        XCTAssertEqual(driver.disk, model)
        XCTAssertTrue(driver.submitted.allSatisfy { $0.count <= 32 && $0.offset == 0 }, "never past the 16 KiB buffer")
    }
}

/// SplitMix64, so a failing random run replays from its seed.
struct SeededRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
