import KernelABI
import Sim
import XCTest
@testable import Kernel

final class IPCTests: XCTestCase {
    /// Root creates server PD 300 with a handler EC (301, local, UTCB 0x90_0000_0000) and portal 302 (id 77) into it.
    private func server(_ h: KernelHarness) -> (ProtectionDomain, ExecutionContext) {
        XCTAssertEqual(h.status(h.rootEC, .createPD, 300, 64, Permissions.all), .success)
        XCTAssertEqual(h.status(h.rootEC, .createEC, 301, 300, 0x90_0000_0000, 0x90_2000_0000, 0, 0), .success)
        XCTAssertEqual(h.status(h.rootEC, .createPT, 302, 301, 0x80_0000_0040, 77), .success)
        return (h.pd(h.rootPD, 300), h.ec(h.rootPD, 301))
    }

    func testCallAndReplyCarryWordsAndTypedItemsAndDonateTheCallersSC() throws {
        let h = try KernelHarness()
        let (server, handler) = server(h)
        let rootSC = try XCTUnwrap(h.rootEC.boundSC)
        h.setWindows(handler, objects: .null, memory: CapabilityRange(kind: .memory, base: 0xa0_0000_0, order: 4, permissions: 7))
        let page = CapabilityRange(kind: .memory, base: h.windowPage(0), permissions: Permissions.read | Permissions.write)
        h.setMessage(h.rootEC, untyped: [1, 2, 3], typed: [(page, 0xa0_0000_2)])
        XCTAssertEqual(h.call(h.rootEC, .call, 302), .blocked)
        XCTAssertEqual(h.rootEC.state, .calling)
        XCTAssertEqual(handler.state, .ready)
        XCTAssertTrue(handler.currentSC === rootSC, "the handler runs on the caller's SC")
        XCTAssertEqual(handler.context.rip, 0x80_0000_0040)
        XCTAssertEqual(handler.context.rsp, 0x90_2000_0000)
        XCTAssertEqual([h.data(handler, 0), h.data(handler, 1), h.data(handler, 2)], [1, 2, 3])
        XCTAssertEqual(h.kernel.utcbWord(handler, UTCBLayout.portalIDWord), 77)
        XCTAssertEqual(UTCBLayout.typedCount(h.kernel.utcbWord(handler, UTCBLayout.countsWord)), 1)
        XCTAssertEqual(h.translate(server, 0xa0_0000_2000, .write)?.physical, h.windowPhysical(0))
        let picked = try XCTUnwrap(h.kernel.pickNext())
        XCTAssertTrue(picked.0 === rootSC && picked.1 === handler)
        h.assertInvariants("during the call")

        h.setMessage(handler, untyped: [42])
        XCTAssertEqual(h.call(handler, .reply), .blocked, "reply does not return to the handler")
        XCTAssertEqual(handler.state, .waitingForCall)
        XCTAssertEqual(h.rootEC.state, .ready)
        XCTAssertEqual(h.rootEC.context.rax, Status.success.rawValue)
        XCTAssertEqual(h.data(h.rootEC, 0), 42)
        XCTAssertTrue(h.kernel.pickNext()!.1 === h.rootEC)
        h.assertInvariants("after the reply")
    }

    func testBusyHandlerQueuesCallersInOrder() throws {
        let h = try KernelHarness()
        let (_, handler) = server(h)
        let (_, client) = h.makeChild(at: 310, utcb: 0x91_0000_0000)
        XCTAssertEqual(h.status(h.rootEC, .createSC, 312, 311, 10, 100), .success)
        XCTAssertEqual(h.status(h.rootEC, .delegate, 310, CapabilityRange(kind: .object, base: 302, permissions: Permissions.ptCall).word, 5), .success)
        h.setMessage(h.rootEC, untyped: [1])
        XCTAssertEqual(h.call(h.rootEC, .call, 302), .blocked)
        h.setMessage(client, untyped: [2])
        XCTAssertEqual(h.call(client, .call, 5), .blocked)
        XCTAssertEqual(client.state, .queued)
        h.assertInvariants("queued")
        h.setMessage(handler, untyped: [])
        h.call(handler, .reply)
        XCTAssertEqual(client.state, .calling, "the next caller is served at once")
        XCTAssertEqual(h.data(handler, 0), 2)
        XCTAssertTrue(handler.currentSC === client.boundSC)
        h.call(handler, .reply)
        XCTAssertEqual(client.context.rax, Status.success.rawValue)
        h.assertInvariants("done")
    }

    func testCallAndReplyErrors() throws {
        let h = try KernelHarness()
        let (_, handler) = server(h)
        XCTAssertEqual(h.status(h.rootEC, .call, 9999), .badSelector)
        XCTAssertEqual(h.status(h.rootEC, .call, RootSelectors.ownPD), .wrongType)
        XCTAssertEqual(h.status(h.rootEC, .reply), .badState, "no call to answer")
        h.kernel.setUTCBWord(h.rootEC, UTCBLayout.countsWord, UTCBLayout.counts(untyped: UTCBLayout.maxDataWords + 1, typed: 0))
        XCTAssertEqual(h.status(h.rootEC, .call, 302), .badRange)
        h.setMessage(h.rootEC, untyped: [], typed: [(CapabilityRange(kind: .memory, base: h.windowPage(0), permissions: 1), 0xa0_0000_0)])
        XCTAssertEqual(h.status(h.rootEC, .call, 302), .badRange, "no receive window")
        XCTAssertEqual(handler.state, .waitingForCall)
        // A handler calling its own portal would deadlock.
        XCTAssertEqual(h.status(h.rootEC, .delegate, 300, CapabilityRange(kind: .object, base: 302, permissions: Permissions.ptCall).word, 8), .success)
        XCTAssertEqual(h.status(h.rootEC, .delegate, 300, CapabilityRange(kind: .object, base: 302, permissions: Permissions.ptControl).word, 9), .success)
        h.setMessage(h.rootEC, untyped: [])
        XCTAssertEqual(h.call(h.rootEC, .call, 302), .blocked)
        h.setMessage(handler, untyped: [])
        XCTAssertEqual(h.status(handler, .call, 8), .aborted)
        // A portal without the call right.
        XCTAssertEqual(h.status(handler, .call, 9), .insufficientRights)
        h.assertInvariants()
    }

    func testDestroyingTheHandlerAbortsItsCaller() throws {
        let h = try KernelHarness()
        _ = server(h)
        h.setMessage(h.rootEC, untyped: [])
        XCTAssertEqual(h.call(h.rootEC, .call, 302), .blocked)
        // Root is blocked; play the kernel destroying the handler (as revocation by another EC would).
        h.kernel.remove(h.rootPD.space.objects[301]!)
        XCTAssertEqual(h.rootEC.state, .ready)
        XCTAssertEqual(h.rootEC.context.rax, Status.aborted.rawValue)
        XCTAssertEqual(h.status(h.rootEC, .call, 302), .aborted, "portal into a dead EC")
        h.assertInvariants()
    }

    func testUnhandledFaultStopsTheECWithAClearLine() throws {
        let h = try KernelHarness()
        let (_, ec) = h.makeChild(at: 300)
        ec.context.rip = 0x80_0000_1234
        h.kernel.handle(.exception(vector: 14, errorCode: 6, faultAddress: 0xdead_0000), from: ec)
        XCTAssertEqual(ec.state, .stopped)
        let text = h.system.consoleText
        XCTAssertTrue(text.contains("ec#\(ec.id) stopped: vector 14 error 0x6 address 0xdead0000 rip 0x8000001234"), text)
        XCTAssertTrue(text.contains("pd#\(ec.pd.id)"), text)
    }

    func testFaultIsDeliveredToTheEventPortalAndTheReplySetsState() throws {
        let h = try KernelHarness()
        let (server, handler) = server(h)
        let (_, ec) = h.makeChild(at: 310, utcb: 0x91_0000_0000, eventBase: 32)
        XCTAssertEqual(h.status(h.rootEC, .createSC, 312, 311, 10, 100), .success)
        XCTAssertEqual(h.status(h.rootEC, .delegate, 310, CapabilityRange(kind: .object, base: 302, permissions: Permissions.ptCall).word, 32 + 14), .success)
        ec.context.rip = 0x80_0000_0100
        ec.context.rsp = 0x90_1000_0000
        h.kernel.handle(.exception(vector: 14, errorCode: 4, faultAddress: 0xa0_0000_0000), from: ec)
        XCTAssertEqual(ec.state, .calling)
        XCTAssertEqual((0..<6).map { h.data(handler, $0) }, [14, 4, 0xa0_0000_0000, 0x80_0000_0100, 0x90_1000_0000, 0x202])
        // The pager maps a page into the faulting PD and resumes it elsewhere, with rdi set.
        XCTAssertEqual(h.status(h.rootEC, .delegate, 300, CapabilityRange(kind: .memory, base: h.windowPage(0), permissions: 3).word, 0xb0_0000_0), .success)
        h.setWindows(ec, objects: .null, memory: CapabilityRange(kind: .memory, base: 0xa0_0000_0, permissions: 7))
        h.setMessage(handler, untyped: [0, 0, 0, 0x80_0000_0200, 0x90_1000_0000, 0x3ff, 99],
                     typed: [(CapabilityRange(kind: .memory, base: 0xb0_0000_0, permissions: 3), 0xa0_0000_0)])
        XCTAssertEqual(h.call(handler, .reply), .blocked)
        XCTAssertEqual(ec.state, .ready)
        XCTAssertEqual(ec.context.rip, 0x80_0000_0200)
        XCTAssertEqual(ec.context.rdi, 99)
        XCTAssertEqual(ec.context.rflags, 0x3ff & 0xcd5 | 0x202, "only arithmetic flags, interrupts on")
        XCTAssertEqual(h.translate(ec.pd, 0xa0_0000_0000, .write)?.physical, h.windowPhysical(0))
        XCTAssertNotNil(server.space.memory[0xb0_0000_0])
        h.assertInvariants()
    }
}
