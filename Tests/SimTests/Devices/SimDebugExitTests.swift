import XCTest
@testable import Sim

final class SimDebugExitTests: XCTestCase {
    func testStatusLikeQEMU() {
        let machine = SimMachine(memorySize: 1 << 20)
        let exit = SimDebugExit()
        machine.attach(exit)
        XCTAssertNil(exit.exitStatus)
        machine.portOut(0xf4, 0x10)
        machine.portOut(0xf4, 0x20) // the first write ends the run; later ones change nothing
        XCTAssertEqual(exit.exitStatus, 0x21)
        XCTAssertEqual(machine.portIn(0x80), 0xff, "an unclaimed port reads as an empty bus")
    }
}
