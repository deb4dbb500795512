import XCTest
import Kernel
import KernelABI
import UserRuntime
@testable import Sim

final class SimUserExecutorTests: XCTestCase {
    let data: UInt64 = 0x90_0000_0000

    func testHypercallRegistersRoundTrip() throws {
        var received: (UInt64, UInt64, UInt64)?
        let program = SimProgram(name: "caller") { p, argument in
            let r = p.hypercall(9, argument, 2, 3, 4, 5, 6)
            received = r
            _ = p.hypercall(10, r.rdi, 0, 0, 0, 0, 0)
        }
        let h = try SimUserTestHarness([program])
        var context = try h.load(program)
        context.rdi = 77
        XCTAssertEqual(h.enter(&context), .hypercall)
        XCTAssertEqual([context.rax, context.rdi, context.rsi, context.rdx, context.r10, context.r8, context.r9],
                       [9, 77, 2, 3, 4, 5, 6])
        XCTAssertEqual(context.rip, SimProgramImage.defaultBase + SimCodeRecord.resumeOffset)
        XCTAssertEqual(context.rcx, context.rip, "syscall leaves the return address in rcx")
        context.rax = 0; context.rdi = 1234; context.rsi = 5
        XCTAssertEqual(h.enter(&context), .hypercall)
        XCTAssertEqual(received?.0, 0)
        XCTAssertEqual(received?.1, 1234)
        XCTAssertEqual(received?.2, 5)
        XCTAssertEqual(context.rax, 10)
        XCTAssertEqual(context.rdi, 1234)
        XCTAssertTrue(h.machine.trace.events.contains(.programStarted(name: "caller", rip: SimProgramImage.defaultBase)))
    }

    func testEntryThroughUnmappedOrNonExecutableMemoryFaults() throws {
        let program = SimProgram(name: "never") { _, _ in XCTFail("must not run") }
        let h = try SimUserTestHarness([program])
        var context = UserContext()
        context.addressSpaceRoot = h.tables.root
        context.rip = 0xa0_0000_0000
        XCTAssertEqual(h.enter(&context), .exception(vector: 14, errorCode: 0x14, faultAddress: 0xa0_0000_0000))

        var mappedNX = try h.load(program, executable: false)
        XCTAssertEqual(h.enter(&mappedNX), .exception(vector: 14, errorCode: 0x15, faultAddress: mappedNX.rip))

        try h.mapData(0xb0_0000_0000)
        try h.tables.map(0xb0_0000_0000, to: 0x40_0000 + 0x100000, writable: false, user: true, executable: true)
        var noRecord = UserContext()
        noRecord.addressSpaceRoot = h.tables.root
        noRecord.rip = 0xb0_0000_0000
        XCTAssertEqual(h.enter(&noRecord), .exception(vector: 6, errorCode: 0, faultAddress: 0), "no SIMCODE: #UD")
        XCTAssertEqual(h.platform.executor.threadCount, 0)
    }

    func testFaultingAccessStopsTheThreadUntilResolved() throws {
        var progress: [String] = []
        let data = self.data
        let program = SimProgram(name: "toucher") { p, _ in
            progress.append("before")
            let value = p.load64(data + 8)
            progress.append("loaded \(value)")
            p.store64(data + 16, value + 1)
            _ = p.hypercall(0, 0, 0, 0, 0, 0, 0)
        }
        let h = try SimUserTestHarness([program])
        var context = try h.load(program)
        XCTAssertEqual(h.enter(&context), .exception(vector: 14, errorCode: 0x4, faultAddress: data + 8))
        XCTAssertEqual(progress, ["before"], "the thread must not run past the faulting load")
        // Re-entering without fixing anything faults again at the same access.
        XCTAssertEqual(h.enter(&context), .exception(vector: 14, errorCode: 0x4, faultAddress: data + 8))
        let frame = try h.mapData(data, writable: false)
        try h.machine.memory.write64(frame + 8, 41)
        XCTAssertEqual(h.enter(&context), .exception(vector: 14, errorCode: 0x7, faultAddress: data + 16),
                       "read-only page: the store faults with present|write|user")
        XCTAssertEqual(progress, ["before", "loaded 41"])
        try h.tables.map(data, to: frame, writable: true, user: true, executable: false)
        XCTAssertEqual(h.enter(&context), .hypercall)
        XCTAssertEqual(try h.machine.memory.read64(frame + 16), 42)
    }

    func testKernelChangingRipRestartsAtTheNewEntry() throws {
        var runs: [String] = []
        let program = SimProgram(name: "two", entries: [
            { p, _ in runs.append("main"); _ = p.hypercall(1, 0, 0, 0, 0, 0, 0); runs.append("main resumed") },
            { p, arg in runs.append("handler \(arg)"); _ = p.hypercall(2, 0, 0, 0, 0, 0, 0) },
        ])
        let h = try SimUserTestHarness([program])
        var context = try h.load(program)
        XCTAssertEqual(h.enter(&context), .hypercall)
        context.rip = SimProgramImage.entryAddress(index: 1)
        context.rdi = 5
        XCTAssertEqual(h.enter(&context), .hypercall)
        XCTAssertEqual(context.rax, 2)
        XCTAssertEqual(runs, ["main", "handler 5"], "the abandoned main thread never continues")
        XCTAssertEqual(h.platform.executor.threadCount, 1)
    }

    func testProgramReturningIsInvalidOpcode() throws {
        let program = SimProgram(name: "short") { _, _ in }
        let h = try SimUserTestHarness([program])
        var context = try h.load(program)
        XCTAssertEqual(h.enter(&context), .exception(vector: 6, errorCode: 0, faultAddress: 0))
        XCTAssertEqual(context.rip, SimProgramImage.defaultBase + SimCodeRecord.returnOffset)
        XCTAssertEqual(h.enter(&context), .exception(vector: 6, errorCode: 0, faultAddress: 0))
        XCTAssertTrue(h.machine.trace.events.contains(.programReturned(name: "short")))
        XCTAssertEqual(h.platform.executor.threadCount, 0)
    }

    /// Two programs hypercall in loops; the "kernel" alternates between them. Only one host thread runs at a
    /// time, so the shared log has exactly the kernel's order, and the whole trace repeats run after run.
    func testBatonInterleavesDeterministically() throws {
        func run() throws -> ([String], [String]) {
            var log: [String] = []
            func worker(_ name: String) -> SimProgram {
                SimProgram(name: name) { p, _ in
                    for i in 0..<5 {
                        log.append("\(name)\(i)")
                        p.compute(ticks: 3)
                        _ = p.hypercall(UInt64(i), 0, 0, 0, 0, 0, 0)
                    }
                }
            }
            let a = worker("a"), b = worker("b")
            let h = try SimUserTestHarness([a, b])
            var contexts = [try h.load(a, base: 0x80_0000_0000), try h.load(b, base: 0x81_0000_0000)]
            for round in 0..<5 {
                for i in 0..<2 {
                    XCTAssertEqual(h.enter(&contexts[i]), .hypercall)
                    XCTAssertEqual(contexts[i].rax, UInt64(round))
                }
            }
            return (log, h.machine.trace.lines)
        }
        let first = try run()
        XCTAssertEqual(first.0, ["a0", "b0", "a1", "b1", "a2", "b2", "a3", "b3", "a4", "b4"])
        let second = try run()
        XCTAssertEqual(first.1, second.1)
    }

    func testTimerPreemptsComputationAndResumes() throws {
        var finished = false
        let program = SimProgram(name: "spin") { p, _ in
            p.compute(ticks: 1000)
            finished = true
            _ = p.hypercall(0, 0, 0, 0, 0, 0, 0)
        }
        let h = try SimUserTestHarness([program])
        var context = try h.load(program)
        h.platform.setTimer(deadline: 100)
        XCTAssertEqual(h.enter(&context), .timer)
        XCTAssertEqual(h.machine.now, 100)
        XCTAssertFalse(finished)
        XCTAssertEqual(h.enter(&context), .hypercall)
        XCTAssertTrue(finished)
        XCTAssertGreaterThanOrEqual(h.machine.now, 1000)
    }

    func testPortAccessFollowsTheIOPermissionBitmap() throws {
        let serial = SimSerial16550()
        let program = SimProgram(name: "io") { p, _ in
            p.portOut8(0x3f8, UInt8(ascii: "A"))
            _ = p.hypercall(0, UInt64(p.portIn8(0x3fd)), 0, 0, 0, 0, 0)
        }
        let h = try SimUserTestHarness([program])
        h.machine.attach(serial)
        var context = try h.load(program)
        XCTAssertEqual(h.enter(&context), .exception(vector: 13, errorCode: 0, faultAddress: 0))
        XCTAssertEqual(h.enter(&context, ports: [0x3f9]), .exception(vector: 13, errorCode: 0, faultAddress: 0))
        XCTAssertEqual(serial.outputText, "", "a refused port access has no effect")
        XCTAssertEqual(h.enter(&context, ports: [0x3f8]), .exception(vector: 13, errorCode: 0, faultAddress: 0),
                       "the out went through, the in of 0x3fd is refused")
        XCTAssertEqual(serial.outputText, "A")
        XCTAssertEqual(h.enter(&context, ports: [0x3f8, 0x3fd]), .hypercall)
        XCTAssertEqual(context.rdi, 0x60)
    }

    func testUTCBAccessThroughSystemCalls() throws {
        let program = SimProgram(name: "printer") { p, _ in
            SystemCalls(p).print("hello")
        }
        let h = try SimUserTestHarness([program])
        let utcbFrame = try h.mapData(AddressLayout.rootUTCB)
        var context = try h.load(program)
        XCTAssertEqual(h.enter(&context), .hypercall)
        XCTAssertEqual(context.rax, Hypercall.consoleWrite.rawValue)
        XCTAssertEqual(context.rdi, 5)
        let bytes = try h.machine.memory.read(5, at: utcbFrame + UInt64(UTCBLayout.firstDataWord * 8))
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self), "hello")
    }
}

final class SimUserInterruptTests: XCTestCase {
    func testDeviceInterruptPreemptsUserCodeAtItsTime() throws {
        var done = false
        let program = SimProgram(name: "busy") { p, _ in
            p.compute(ticks: 500)
            done = true
            _ = p.hypercall(0, 0, 0, 0, 0, 0, 0)
        }
        let h = try SimUserTestHarness([program])
        h.platform.unmaskInterrupt(7)
        h.machine.schedule(after: 50, "nic") { $0.raiseInterrupt(7) }
        var context = try h.load(program)
        XCTAssertEqual(h.enter(&context), .interrupt(irq: 7))
        XCTAssertEqual(h.machine.now, 50)
        XCTAssertFalse(done)
        h.platform.endOfInterrupt(7)
        XCTAssertEqual(h.enter(&context), .hypercall)
        XCTAssertTrue(done)
    }
}

final class SimPortalHandlerRestartTests: XCTestCase {
    /// A handler entry loops `handle; reply`; the kernel enters it afresh at the entry for every call. Each call
    /// runs on a new thread and the one stopped in the previous reply is ended, so threads do not pile up.
    func testRestartedHandlerEndsTheStoppedThread() throws {
        var calls = 0
        let program = SimProgram(name: "server", entries: [
            { _, _ in },
            { p, _ in while true { calls += 1; _ = p.hypercall(1, 0, 0, 0, 0, 0, 0) } },
        ])
        let h = try SimUserTestHarness([program])
        _ = try h.load(program)
        for round in 1...20 {
            var context = UserContext()
            context.addressSpaceRoot = h.tables.root
            context.rip = SimProgramImage.entryAddress(index: 1)
            context.rsp = 0x7000_0010_0000
            XCTAssertEqual(h.enter(&context), .hypercall)
            XCTAssertEqual(calls, round)
            XCTAssertEqual(h.platform.executor.threadCount, 1)
        }
        var other = UserContext()
        other.addressSpaceRoot = h.tables.root
        other.rip = SimProgramImage.entryAddress(index: 1)
        other.rsp = 0x7000_0020_0000
        XCTAssertEqual(h.enter(&other), .hypercall)
        XCTAssertEqual(h.platform.executor.threadCount, 2, "another stack is another EC")
    }
}
