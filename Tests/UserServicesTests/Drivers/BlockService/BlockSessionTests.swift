import BlockService
import KernelABI
import UserRuntime
import XCTest

/// `BlockSession` against a scripted provider that can die and come back: what was not acknowledged is submitted
/// again in order after a reconnection, a refusal by the new driver reaches the caller of that request's `wait`,
/// and a provider that stays away gives `providerGone` instead of a hang.
final class BlockSessionTests: XCTestCase {
    /// A platform whose `call` is served by an in-process block provider (one "driver run" per incarnation).
    final class ScriptedProvider: WordMemoryPlatform {
        var memory: [UInt64: UInt64] = [:]
        var componentState: AnyObject?
        var now: UInt64 = 0
        var utcbAddress: UInt64 { Self.utcbBase }
        /// Calls answered `aborted` (the driver died) before the slot is empty for `emptyCalls` more calls
        /// (`badSelector`: not reconnected yet); then a new incarnation answers.
        var abortedCalls = 0
        var emptyCalls = 0
        var neverBack = false
        var incarnation = 1
        var sectors: UInt64 = 2048
        var attached = false
        var nextTag: UInt64 = 1
        var inFlight: [UInt64: BlockRequest] = [:]
        /// Every request a living provider took: (incarnation, words).
        var served: [(Int, [UInt64])] = []
        /// Dies while serving the n-th submit (counted over all incarnations), after it reached the "device".
        var dieAtSubmit: Int?
        private var submits = 0

        func timestamp() -> UInt64 { now }

        static let utcbBase: UInt64 = 0x10000
        var utcb: UTCB<ScriptedProvider> { UTCB(platform: self, base: Self.utcbBase) }

        func die(abortedCalls: Int = 1, emptyCalls: Int = 2) {
            self.abortedCalls = abortedCalls
            self.emptyCalls = emptyCalls
        }

        func hypercall(_ number: UInt64, _ a0: UInt64, _ a1: UInt64, _ a2: UInt64, _ a3: UInt64, _ a4: UInt64,
                       _ a5: UInt64) -> (rax: UInt64, rdi: UInt64, rsi: UInt64) {
            switch Hypercall(rawValue: number) {
            case .ctrlSM?:
                if a1 == SemaphoreOp.downTimed.rawValue { now = max(now, a2); return (Status.timeout.rawValue, 0, 0) }
                return (Status.success.rawValue, 0, 0)
            case .call?:
                if abortedCalls > 0 { abortedCalls -= 1; return (Status.aborted.rawValue, 0, 0) }
                if emptyCalls > 0 || neverBack {
                    emptyCalls = max(0, emptyCalls - 1)
                    if emptyCalls == 0 && !neverBack { restart() }
                    return (Status.badSelector.rawValue, 0, 0)
                }
                return serve()
            default:
                return (Status.success.rawValue, 0, 0)
            }
        }

        private func restart() {
            incarnation += 1
            attached = false
            inFlight = [:]
        }

        private func reply(_ words: [UInt64]) -> (rax: UInt64, rdi: UInt64, rsi: UInt64) {
            utcb.setMessage(untyped: words)
            return (Status.success.rawValue, 0, 0)
        }

        private func serve() -> (rax: UInt64, rdi: UInt64, rsi: UInt64) {
            let words = (0..<utcb.untypedCount).map { utcb.data($0) }
            served.append((incarnation, words))
            switch BlockOperation(rawValue: words.first ?? 0) {
            case .info?: return reply([Status.success.rawValue, sectors, 512, 8])
            case .statistics?: return reply([Status.success.rawValue, 0, 0])
            case .attach?:
                guard !attached else { return (Status.badRange.rawValue, 0, 0) } // window occupied
                attached = true
                return reply([Status.success.rawValue, 16])
            case .submit?:
                let r = BlockRequest(kind: BlockRequestKind(rawValue: words[1])!, sector: words[2], count: words[3], offset: words[4])
                if let e = r.check(sectors: sectors, bufferBytes: attached ? 16 * 4096 : nil, inFlight: Array(inFlight.values)) {
                    return reply([Status.badRange.rawValue, e.rawValue])
                }
                let tag = nextTag
                nextTag += 1
                inFlight[tag] = r
                submits += 1
                if submits == dieAtSubmit { die() ; return hypercall(Hypercall.call.rawValue, 0, 0, 0, 0, 0, 0) }
                return reply([Status.success.rawValue, tag])
            case .wait?:
                guard inFlight.removeValue(forKey: words[1]) != nil else {
                    return reply([Status.badRange.rawValue, BlockRequestError.unknownTag.rawValue])
                }
                return reply([Status.success.rawValue, 0])
            case nil: return reply([Status.badRange.rawValue, BlockRequestError.malformed.rawValue])
            }
        }

        /// The sectors of the submits a given incarnation took, in order.
        func submittedSectors(incarnation: Int) -> [UInt64] {
            served.filter { $0.0 == incarnation && $0.1.first == BlockOperation.submit.rawValue }.map { $0.1[2] }
        }
    }

    func session(_ p: ScriptedProvider) -> BlockSession<ScriptedProvider> {
        BlockSession(client: BlockClient(utcb: p.utcb, portal: 40), bufferPage: 0x200, bufferOrder: 4, sleepSM: 41,
                     ticksPerMillisecond: 1000)
    }

    func write(_ sector: UInt64, _ offset: UInt64) -> BlockRequest {
        BlockRequest(kind: .write, sector: sector, count: 8, offset: offset)
    }

    func testUnacknowledgedRequestsAreResubmittedInOrderAfterTheProviderCameBack() throws {
        let p = ScriptedProvider()
        p.dieAtSubmit = 3
        let s = session(p)
        XCTAssertEqual(try s.attach().get(), 16)
        let a = try s.submit(write(0, 0)).get()
        let b = try s.submit(write(8, 4096)).get()
        let c = try s.submit(write(16, 8192)).get() // the provider dies serving this one
        XCTAssertEqual(p.incarnation, 2)
        XCTAssertEqual(s.reconnections, 1)
        XCTAssertEqual(s.resubmitted, 3)
        XCTAssertEqual(p.submittedSectors(incarnation: 2), [0, 8, 16], "all three again, in their order")
        XCTAssertTrue(p.served.contains { $0.0 == 2 && $0.1.first == BlockOperation.attach.rawValue }, "attached again")
        for tag in [c, a, b] { XCTAssertNoThrow(try s.wait(tag).get()) }
        XCTAssertTrue(p.inFlight.isEmpty)
        if case .failure(let f) = s.wait(a) { XCTAssertEqual(f.reason, .unknownTag) } else { XCTFail("waited twice") }
    }

    func testAProviderDyingDuringAWaitIsWaitedForAndTheRestRetried() throws {
        let p = ScriptedProvider()
        let s = session(p)
        _ = try s.attach().get()
        let a = try s.submit(write(0, 0)).get()
        let b = try s.submit(write(8, 4096)).get()
        p.die(abortedCalls: 1, emptyCalls: 5)
        XCTAssertNoThrow(try s.wait(a).get())
        XCTAssertEqual(p.submittedSectors(incarnation: 2), [0, 8])
        XCTAssertNoThrow(try s.wait(b).get())
        XCTAssertEqual(s.reconnections, 1)
    }

    func testARefusalByTheRestartedDriverReachesThatRequestsWait() throws {
        let p = ScriptedProvider()
        let s = session(p)
        _ = try s.attach().get()
        let near = try s.submit(write(0, 0)).get()
        let far = try s.submit(write(1500, 4096)).get()
        p.die()
        p.sectors = 1024 // the new run sees a smaller disk
        XCTAssertNoThrow(try s.wait(near).get())
        switch s.wait(far) {
        case .failure(let f): XCTAssertEqual(f.reason, .pastTheEnd)
        case .success: XCTFail("a request past the new end was acknowledged")
        }
    }

    func testAProviderThatStaysAwayGivesProviderGone() throws {
        let p = ScriptedProvider()
        let s = session(p)
        _ = try s.attach().get()
        let a = try s.submit(write(0, 0)).get()
        p.neverBack = true
        p.die(abortedCalls: 1, emptyCalls: 0)
        switch s.submit(write(8, 4096)) {
        case .failure(let f):
            XCTAssertEqual(f.reason, .providerGone)
            XCTAssertEqual(f.description, "the block service's provider is gone (not restarted in time) (aborted)")
        case .success: XCTFail("submitted to nobody")
        }
        XCTAssertGreaterThanOrEqual(p.now, 3000 * 1000, "it waited its 3 s")
        if case .failure(let f) = s.wait(a) { XCTAssertEqual(f.reason, .providerGone) } else { XCTFail("acknowledged by nobody") }
        if case .failure(let f) = s.info() { XCTAssertEqual(f.reason, .providerGone) } else { XCTFail("info from nobody") }
    }

    /// Random deaths (during submits and waits, with random reconnection delays) over many requests: every
    /// request is acknowledged exactly once, and each was last submitted to the incarnation that acknowledged it.
    func testRandomDeathsLoseNothing() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let p = ScriptedProvider()
            let s = session(p)
            _ = try s.attach().get()
            var open: [UInt64] = []
            var acknowledged = 0
            for k in 0..<UInt64(40) {
                if Int.random(in: 0..<6, using: &rng) == 0 {
                    p.die(abortedCalls: Int.random(in: 0...1, using: &rng), emptyCalls: Int.random(in: 1...4, using: &rng))
                }
                if open.count == 4 || (open.count > 0 && Bool.random(using: &rng)) {
                    try s.wait(open.removeFirst()).get()
                    acknowledged += 1
                }
                open.append(try s.submit(write(8 * (k % 200), 4096 * (k % 16))).get())
            }
            for tag in open { try s.wait(tag).get(); acknowledged += 1 }
            XCTAssertEqual(acknowledged, 40)
            XCTAssertTrue(p.inFlight.isEmpty, "nothing left at the provider")
        }
    }
}
