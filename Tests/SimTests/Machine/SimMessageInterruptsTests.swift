import KernelABI
import XCTest
@testable import Sim

final class SimMessageInterruptsTests: XCTestCase {
    func testMessagesAreDecodedAsTheLAPICDoes() {
        let window = SimMessageInterrupts(count: 4)
        XCTAssertEqual(window.message(2), MessageInterrupt(address: 0xfee0_0000, data: 82 | 1 << 14))
        XCTAssertNil(window.message(4), "beyond this machine's vectors")
        XCTAssertEqual(window.write(address: 0xfed0_0000, data: 80), .ignored("address 0xfed00000 is outside the interrupt window"))
        XCTAssertEqual(window.write(address: 0xfee0_3000, data: 80), .ignored("no CPU has APIC id 3"))
        XCTAssertEqual(window.write(address: 0xfee0_0000, data: 81 | 5 << 8), .ignored("delivery mode 5 is not fixed"))
        XCTAssertEqual(window.write(address: 0xfee0_0000, data: 84), .ignored("vector 84 is no message interrupt"))
        XCTAssertNil(window.deliverable)
        XCTAssertEqual(window.write(address: 0xfee0_0000, data: 83 | 1 << 14), .raised(index: 3))
        XCTAssertEqual(window.write(address: 0xfee0_000c, data: 81), .raised(index: 1), "low address bits are not the destination")
        XCTAssertTrue(window.isPending(3))
        XCTAssertEqual(window.acknowledge(), 1, "lowest first")
        XCTAssertEqual(window.acknowledge(), 3)
        XCTAssertNil(window.acknowledge(), "an edge is taken once")
    }

    /// A device's write goes to the window or to RAM; the machine takes a pending message as an interrupt exit.
    func testDeviceWritesReachTheWindowOrMemory() throws {
        let machine = SimMachine(memorySize: 1 << 20)
        XCTAssertNil(machine.deviceWrite(address: 0x1000, value: 0xdead_beef))
        XCTAssertEqual(try machine.memory.read64(0x1000), 0xdead_beef)
        XCTAssertNil(machine.deviceWrite(address: 0x20_0000, value: 1), "beyond RAM: dropped, not a crash")
        XCTAssertEqual(machine.deviceWrite(address: 0xfee0_0000, value: 80), .raised(index: 0))
        XCTAssertTrue(machine.hasPendingExit)
        XCTAssertEqual(machine.takePendingExit(), .interrupt(irq: RootSelectors.lineCount))
        XCTAssertFalse(machine.hasPendingExit)
        XCTAssertTrue(machine.trace.lines.contains { $0.contains("message interrupt 0") }, machine.trace.lines.joined(separator: "\n"))
    }

    /// The MSI device: its registers, its doorbell, and no message while MSI is disabled.
    func testTheMSIDeviceSendsItsProgrammedMessageWhenEnabled() {
        let machine = SimMachine(memorySize: 1 << 20)
        let device = SimMSIDevice(base: 0x2000, latency: 5)
        machine.attach(device)
        for (i, byte) in [0x00, 0x00, 0xe0, 0xfe].enumerated() { machine.portOut(0x2000 + UInt16(i), UInt8(byte)) }
        machine.portOut(0x2004, 0x52)
        machine.portOut(0x2005, 0x40)
        XCTAssertEqual(device.address, 0xfee0_0000)
        XCTAssertEqual(device.data, 0x4052)
        XCTAssertEqual(machine.portIn(0x2002), 0xe0)
        machine.portOut(0x2007, 1)
        machine.advance(by: 5)
        XCTAssertEqual(device.suppressed, 1, "MSI disabled: the completion sends nothing")
        XCTAssertNil(machine.takePendingExit())
        machine.portOut(0x2006, 1)
        XCTAssertEqual(machine.portIn(0x2006), 1)
        machine.portOut(0x2007, 1)
        machine.advance(by: 4)
        XCTAssertEqual(device.sent, 0, "not before its latency")
        machine.advance(by: 1)
        XCTAssertEqual(device.sent, 1)
        XCTAssertEqual(machine.portIn(0x2007), 1)
        XCTAssertEqual(device.outcomes, [.raised(index: 2)])
        XCTAssertEqual(machine.takePendingExit(), .interrupt(irq: RootSelectors.lineCount + 2))
    }
}
