import XCTest
@testable import Sim

/// A 16550 on an ISA line (`edgeTriggered`): one edge per rise of its interrupt condition, none while it stays up.
final class SimSerial16550EdgeTests: XCTestCase {
    func testReceiveRaisesOneEdgePerRise() {
        let machine = SimMachine(memorySize: 1 << 20)
        let uart = SimSerial16550(base: 0x2f8, irq: 3, edgeTriggered: true)
        machine.attach(uart)
        machine.interrupts.unmask(3)
        machine.portOut(0x2f9, 0x01)             // receive interrupt
        uart.receive([0x41], machine: machine)
        uart.receive([0x42], machine: machine)   // the condition is already up: no second edge
        XCTAssertEqual(machine.interrupts.acknowledge(), 3)
        machine.interrupts.endOfInterrupt(3)
        XCTAssertNil(machine.interrupts.acknowledge(), "an edge is delivered once, though data still waits")
        XCTAssertEqual(machine.portIn(0x2f8), 0x41)
        XCTAssertEqual(machine.portIn(0x2f8), 0x42)
        uart.receive([0x43], machine: machine)   // the condition fell and rises again
        XCTAssertEqual(machine.interrupts.acknowledge(), 3)
    }
}
