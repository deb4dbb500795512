import XCTest
import Kernel
@testable import Sim

final class SimPlatformTests: XCTestCase {
    func testIdleWaitsForTheTimerInVirtualTime() {
        let platform = SimPlatform(machine: SimMachine(memorySize: 1 << 20))
        platform.setTimer(deadline: 500)
        XCTAssertEqual(platform.idle(), .timer)
        XCTAssertEqual(platform.now, 500)
        XCTAssertFalse(platform.machine.idleForever)
        platform.setTimer(deadline: 900)
        platform.setTimer(deadline: nil)
        XCTAssertEqual(platform.idle(), .timer)
        XCTAssertTrue(platform.machine.idleForever, "nothing could ever wake the machine")
        XCTAssertEqual(platform.now, 500)
    }

    func testInterruptDeliveryMaskAndEOI() {
        let platform = SimPlatform(machine: SimMachine(memorySize: 1 << 20))
        let machine = platform.machine
        machine.schedule(after: 100, "disk") { $0.raiseInterrupt(5) }
        machine.schedule(after: 200, "disk again") { $0.raiseInterrupt(5) }
        platform.setTimer(deadline: 300)
        XCTAssertEqual(platform.idle(), .timer, "irq 5 is masked")
        platform.unmaskInterrupt(5)
        XCTAssertEqual(platform.idle(), .interrupt(irq: 5))
        machine.raiseInterrupt(5)
        platform.setTimer(deadline: 400)
        XCTAssertEqual(platform.idle(), .timer, "no second delivery before EOI")
        platform.endOfInterrupt(5)
        XCTAssertEqual(platform.idle(), .interrupt(irq: 5))
        XCTAssertTrue(machine.trace.events.contains(.endOfInterrupt(irq: 5)))
    }

    func testPendingInterruptEndsEnterUserBeforeUserCodeRuns() {
        let platform = SimPlatform(machine: SimMachine(memorySize: 1 << 20))
        platform.unmaskInterrupt(3)
        platform.machine.raiseInterrupt(3)
        var context = UserContext()
        XCTAssertEqual(platform.enterUser(&context, ioPermissions: nil), .interrupt(irq: 3))
        XCTAssertEqual(platform.machine.cpu.mode, .kernel)
        XCTAssertEqual(platform.machine.cpu.userEntries, 1)
    }

    func testPhysicalAccessBeyondRAMIsAKernelFault() {
        let platform = SimPlatform(machine: SimMachine(memorySize: 1 << 20))
        platform.writePhysical(0x1000, 7)
        XCTAssertEqual(platform.readPhysical(0x1000), 7)
        XCTAssertNil(platform.machine.kernelFault)
        XCTAssertEqual(platform.readPhysical(1 << 20), 0)
        XCTAssertEqual(platform.machine.kernelFault,
                       "readPhysical: physical address 0x100000 is beyond the machine's 0x100000 bytes of RAM")
    }

    func testConsole() {
        let platform = SimPlatform(machine: SimMachine(memorySize: 1 << 20))
        for b in "hi".utf8 { platform.consoleWrite(b) }
        XCTAssertEqual(platform.machine.consoleText, "hi")
    }
}
