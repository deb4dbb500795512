import KernelABI
import Sim
import XCTest
@testable import Kernel

/// The IPC fast path must leave the kernel exactly as the general path does for the same call or reply, and must
/// decline (changing nothing) every case it does not cover. Each test runs the same scenario on two kernels, one
/// through `handle` (general path) and one through `fastIPC` (fast path), and compares what each EC and UTCB holds.
final class IPCFastPathTests: XCTestCase {
    /// Root, a server PD 300 with handler EC 301 (local) and portal 302 (id 77).
    private func setUp(_ h: KernelHarness, callRights: UInt64 = Permissions.all) -> ExecutionContext {
        XCTAssertEqual(h.status(h.rootEC, .createPD, 300, 64, Permissions.all), .success)
        XCTAssertEqual(h.status(h.rootEC, .createEC, 301, 300, 0x90_0000_0000, 0x90_2000_0000, 0, 0), .success)
        XCTAssertEqual(h.status(h.rootEC, .createPT, 302, 301, 0x80_0000_0040, 77), .success)
        let limited = CapabilityRange(kind: .object, base: 302, permissions: callRights)
        XCTAssertEqual(h.status(h.rootEC, .delegate, 1, limited.word, 303), .success)
        return h.ec(h.rootPD, 301)
    }

    /// What an EC looks like to the outside: state, links, registers and its first UTCB words.
    private func snapshot(_ h: KernelHarness, _ ec: ExecutionContext) -> [UInt64] {
        let c = ec.context
        let state: UInt64 = switch ec.state {
        case .ready: 1
        case .waitingForCall: 2
        case .calling: 3
        case .queued: 4
        case .blocked: 5
        case .stopped: 6
        }
        return [state, ec.caller?.id ?? 0, ec.callee?.id ?? 0, ec.currentSC?.id ?? 0, c.rax, c.rdi, c.rsi, c.rip, c.rsp,
                c.rflags, c.rbx, c.r15] + (0..<10).map { h.kernel.utcbWord(ec, $0) }
    }

    private func issue(_ h: KernelHarness, _ ec: ExecutionContext, _ call: Hypercall, _ selector: UInt64 = 0) {
        ec.context.rax = call.rawValue
        ec.context.rdi = selector
    }

    func testCallAndReplyEndWhereTheGeneralPathEnds() throws {
        let general = try KernelHarness(), fast = try KernelHarness()
        let handlers = (setUp(general), setUp(fast))
        for h in [general, fast] {
            h.setMessage(h.rootEC, untyped: [5, 6, 7])
            h.ec(h.rootPD, 301).context.rbx = 0xdead  // left over from an earlier call: must be cleared
        }
        issue(general, general.rootEC, .call, 303)
        general.kernel.handle(.hypercall, from: general.rootEC)
        issue(fast, fast.rootEC, .call, 303)
        XCTAssertTrue(fast.kernel.fastIPC(from: fast.rootEC)?.object === handlers.1, "the handler continues on the SC")
        XCTAssertEqual(snapshot(general, general.rootEC), snapshot(fast, fast.rootEC))
        XCTAssertEqual(snapshot(general, handlers.0), snapshot(fast, handlers.1))
        XCTAssertEqual(handlers.1.context.rip, 0x80_0000_0040)
        XCTAssertEqual(fast.data(handlers.1, 2), 7)
        fast.assertInvariants("after the fast call")

        for (h, handler) in [(general, handlers.0), (fast, handlers.1)] { h.setMessage(handler, untyped: [8, 9]) }
        issue(general, handlers.0, .reply)
        general.kernel.handle(.hypercall, from: handlers.0)
        issue(fast, handlers.1, .reply)
        XCTAssertTrue(fast.kernel.fastIPC(from: handlers.1)?.object === fast.rootEC, "the caller continues on the SC")
        XCTAssertEqual(snapshot(general, general.rootEC), snapshot(fast, fast.rootEC))
        XCTAssertEqual(snapshot(general, handlers.0), snapshot(fast, handlers.1))
        XCTAssertEqual(fast.data(fast.rootEC, 1), 9)
        XCTAssertEqual(general.kernel.statistics.hypercalls, fast.kernel.statistics.hypercalls)
        XCTAssertEqual(fast.kernel.statistics.fastIPC, 2)
        fast.assertInvariants("after the fast reply")
    }

    func testUncoveredCasesAreDeclinedWithoutChangingAnything() throws {
        let h = try KernelHarness()
        let handler = setUp(h, callRights: Permissions.ptControl)
        let before = (snapshot(h, h.rootEC), snapshot(h, handler))
        func declined(_ why: String, file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertNil(h.kernel.fastIPC(from: h.rootEC), why, file: file, line: line)
            XCTAssertEqual(before.1, snapshot(h, handler), why, file: file, line: line)
            XCTAssertEqual(h.kernel.statistics.fastIPC, 0, why, file: file, line: line)
        }
        h.setMessage(h.rootEC, untyped: [])
        issue(h, h.rootEC, .call, 303)
        declined("no call right")
        issue(h, h.rootEC, .call, 999)
        declined("empty selector")
        issue(h, h.rootEC, .call, 1 << 20)
        declined("selector out of range")
        issue(h, h.rootEC, .call, 1)
        declined("not a portal")
        let page = CapabilityRange(kind: .memory, base: h.windowPage(0), permissions: Permissions.read)
        h.setMessage(h.rootEC, untyped: [1], typed: [(page, 0)])
        issue(h, h.rootEC, .call, 302)
        declined("typed items")
        h.kernel.setUTCBWord(h.rootEC, UTCBLayout.countsWord, UInt64(UTCBLayout.maxDataWords + 1))
        declined("too many words")
        issue(h, h.rootEC, .createSM, 400)
        declined("not IPC")
        issue(h, handler, .reply)
        XCTAssertNil(h.kernel.fastIPC(from: handler), "reply without a call")
        XCTAssertEqual(before.0.count, snapshot(h, h.rootEC).count)
    }

    func testABusyHandlerAndEventRepliesTakeTheGeneralPath() throws {
        let h = try KernelHarness()
        let handler = setUp(h)
        let (_, client) = h.makeChild(at: 310, utcb: 0x91_0000_0000)
        XCTAssertEqual(h.status(h.rootEC, .delegate, 310, CapabilityRange(kind: .object, base: 302, permissions: Permissions.ptCall).word, 5), .success)
        h.setMessage(h.rootEC, untyped: [1])
        issue(h, h.rootEC, .call, 302)
        XCTAssertTrue(h.kernel.fastIPC(from: h.rootEC)?.object === handler)
        h.setMessage(client, untyped: [2])
        issue(h, client, .call, 5)
        XCTAssertNil(h.kernel.fastIPC(from: client), "the handler is busy: the general path queues the caller")
        XCTAssertEqual(h.call(client, .call, 5), .blocked)
        XCTAssertEqual(client.state, .queued)
        // The fast reply answers root and, like the general path, hands the handler to the queued client.
        h.setMessage(handler, untyped: [3])
        issue(h, handler, .reply)
        XCTAssertTrue(h.kernel.fastIPC(from: handler)?.object === h.rootEC)
        XCTAssertEqual(h.rootEC.state, .ready)
        XCTAssertEqual(h.data(h.rootEC, 0), 3)
        XCTAssertEqual(client.state, .calling)
        XCTAssertTrue(handler.caller === client)
        h.assertInvariants("after the fast reply with a queued caller")
        // An event call (the client faults into an event portal) is answered by the general path only.
        handler.caller?.callKind = .exception
        issue(h, handler, .reply)
        XCTAssertNil(h.kernel.fastIPC(from: handler))
        handler.caller?.callKind = .call
    }

    func testTheRememberedPortalIsNotUsedOnceItsCapabilityIsGone() throws {
        let h = try KernelHarness()
        let handler = setUp(h)
        func roundTrip(_ selector: UInt64) -> ExecutionContext? {
            h.setMessage(h.rootEC, untyped: [1])
            issue(h, h.rootEC, .call, selector)
            guard let served = h.kernel.fastIPC(from: h.rootEC)?.object else { return nil }
            h.setMessage(served, untyped: [])
            issue(h, served, .reply)
            XCTAssertTrue(h.kernel.fastIPC(from: served)?.object === h.rootEC)
            return served
        }
        XCTAssertTrue(roundTrip(303) === handler)
        guard case .pt(let calledPortal)? = h.rootPD.space.objects[303]?.object else { return XCTFail("no portal at 303") }
        XCTAssertTrue(h.rootEC.lastCalledPortal.portal(at: 303)?.object === calledPortal)
        // Revoke the derived capability at 303: the remembered one is dead, the slot empty.
        XCTAssertEqual(h.status(h.rootEC, .revoke, CapabilityRange(kind: .object, base: 303, permissions: Permissions.all).word, RevokeFlags.includeSelf), .success)
        XCTAssertNil(roundTrip(303), "a revoked capability is not called through")
        // A different portal (another handler) delegated to the same selector is the one called.
        XCTAssertEqual(h.status(h.rootEC, .createEC, 304, 300, 0x90_0001_0000, 0x90_3000_0000, 0, 0), .success)
        XCTAssertEqual(h.status(h.rootEC, .createPT, 305, 304, 0x80_0000_0080, 78), .success)
        XCTAssertEqual(h.status(h.rootEC, .delegate, 1, CapabilityRange(kind: .object, base: 305, permissions: Permissions.ptCall).word, 303), .success)
        XCTAssertTrue(roundTrip(303) === h.ec(h.rootPD, 304))
        h.assertInvariants("after calls through a replaced selector")
    }
}
