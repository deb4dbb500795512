@testable import DeviceModels
import XCTest

/// The console UART as Linux's 8250 driver probes and drives it.
final class Serial16550Tests: XCTestCase {
    let base = Serial16550.com1

    func testTheProbesOfThe8250DriverSeeA16550A() {
        let uart = Serial16550()
        // IER scratch test: writes of 0 and 0x0f read back.
        uart.portWrite(base + 1, size: 1, value: 0)
        XCTAssertEqual(uart.portRead(base + 1, size: 1) & 0x0f, 0)
        uart.portWrite(base + 1, size: 1, value: 0x0f)
        XCTAssertEqual(uart.portRead(base + 1, size: 1), 0x0f)
        uart.portWrite(base + 1, size: 1, value: 0)
        // Loopback: MSR mirrors MCR's outputs (the driver checks MCR 0x1a gives MSR 0x90).
        uart.portWrite(base + 4, size: 1, value: 0x1a)
        XCTAssertEqual(uart.portRead(base + 6, size: 1) & 0xf0, 0x90)
        uart.portWrite(base + 4, size: 1, value: 0)
        // FIFOs enabled: IIR's top bits say 16550A.
        uart.portWrite(base + 2, size: 1, value: 0x07)
        XCTAssertEqual(uart.portRead(base + 2, size: 1) >> 6, 3)
        // Divisor latch and scratch register keep their values.
        uart.portWrite(base + 3, size: 1, value: 0x83)
        uart.portWrite(base, size: 1, value: 1)
        uart.portWrite(base + 1, size: 1, value: 0)
        XCTAssertEqual(uart.portRead(base, size: 1), 1)
        uart.portWrite(base + 3, size: 1, value: 0x03)
        uart.portWrite(base + 7, size: 1, value: 0x5a)
        XCTAssertEqual(uart.portRead(base + 7, size: 1), 0x5a)
        XCTAssertEqual(uart.portRead(base + 5, size: 1) & 0x60, 0x60)
    }

    func testTransmittedBytesAreHandedOutAndLoopbackBytesAreReceivedInstead() {
        let uart = Serial16550()
        for byte in Array("hi\n".utf8) { uart.portWrite(base, size: 1, value: UInt32(byte)) }
        XCTAssertEqual(uart.takeOutput(), Array("hi\n".utf8))
        XCTAssertEqual(uart.takeOutput(), [])
        uart.portWrite(base + 4, size: 1, value: 0x10)
        uart.portWrite(base, size: 1, value: 0x41)
        XCTAssertEqual(uart.takeOutput(), [])
        XCTAssertEqual(uart.portRead(base + 5, size: 1) & 1, 1)
        XCTAssertEqual(uart.portRead(base, size: 1), 0x41)
        XCTAssertEqual(uart.portRead(base + 5, size: 1) & 1, 0)
    }

    /// Enabling THRI raises IRQ 4 at once (THR is always empty), reading IIR clears it, each THR write raises it
    /// again (a new edge), and OUT2 gates the line.
    func testTheTransmitInterruptFollowsTHRIAndOUT2() {
        let lines = LineRecorder()
        let uart = Serial16550(lines: lines)
        uart.portWrite(base + 4, size: 1, value: 0x08)  // OUT2
        uart.portWrite(base + 1, size: 1, value: 0x02)
        XCTAssertTrue(lines.level(4))
        XCTAssertEqual(uart.portRead(base + 2, size: 1) & 0x0f, 0x02)
        XCTAssertFalse(lines.level(4))
        XCTAssertEqual(uart.portRead(base + 2, size: 1) & 0x0f, 0x01)
        uart.portWrite(base, size: 1, value: 0x41)
        XCTAssertTrue(lines.level(4))
        XCTAssertEqual(lines.edges(4), 2)
        uart.portWrite(base + 1, size: 1, value: 0)
        XCTAssertFalse(lines.level(4))
        uart.portWrite(base + 4, size: 1, value: 0)
        uart.portWrite(base + 1, size: 1, value: 0x02)
        XCTAssertFalse(lines.level(4), "without OUT2 the line stays low")
    }
}
