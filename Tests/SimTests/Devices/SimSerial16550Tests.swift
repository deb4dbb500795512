import XCTest
@testable import Sim

final class SimSerial16550Tests: XCTestCase {
    func testTransmitDivisorAndReceiveInterrupt() {
        let machine = SimMachine(memorySize: 1 << 20)
        let uart = SimSerial16550()
        machine.attach(uart)
        machine.portOut(0x3fb, 0x80)             // DLAB
        machine.portOut(0x3f8, 0x01); machine.portOut(0x3f9, 0x00)
        machine.portOut(0x3fb, 0x03)             // 8N1
        XCTAssertEqual(uart.baudDivisor, 1)
        for b in "ok".utf8 { machine.portOut(0x3f8, b) }
        XCTAssertEqual(uart.outputText, "ok")
        XCTAssertEqual(machine.portIn(0x3fd) & 0x61, 0x60, "transmitter empty, no data")

        machine.interrupts.unmask(4)
        machine.portOut(0x3f9, 0x01)             // receive interrupt
        uart.receive([0x41], machine: machine)
        XCTAssertEqual(machine.portIn(0x3fd) & 1, 1)
        XCTAssertEqual(machine.portIn(0x3fa), 0xc4, "IIR: received data")
        XCTAssertEqual(machine.interrupts.acknowledge(), 4)
        XCTAssertEqual(machine.portIn(0x3f8), 0x41)
        machine.interrupts.endOfInterrupt(4)
        XCTAssertNil(machine.interrupts.acknowledge(), "line drops once the data is read")
        XCTAssertEqual(machine.portIn(0x3fa), 0xc1)
    }

    func testTransmitInterruptClearedByReadingIIR() {
        let machine = SimMachine(memorySize: 1 << 20)
        let uart = SimSerial16550()
        machine.attach(uart)
        machine.interrupts.unmask(4)
        machine.portOut(0x3f9, 0x02)
        machine.portOut(0x3f8, 0x42)
        XCTAssertEqual(machine.interrupts.deliverable, 4)
        XCTAssertEqual(machine.portIn(0x3fa), 0xc2)
        XCTAssertNil(machine.interrupts.deliverable)
    }
}
