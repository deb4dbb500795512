import XCTest
@testable import DeviceModels

final class InterruptRoutingTests: XCTestCase {
    private func makeRouting() -> InterruptRouting {
        let apic = LocalAPIC()
        return InterruptRouting(pic: PIC8259(), ioapic: IOAPIC(localAPIC: apic), localAPIC: apic)
    }

    private func initPIC(_ pic: PIC8259, masterMask: UInt8, slaveMask: UInt8 = 0xff) {
        for (port, value) in [(0x20, 0x11), (0x21, 0x30), (0x21, 0x04), (0x21, 0x01),
                              (0xa0, 0x11), (0xa1, 0x38), (0xa1, 0x02), (0xa1, 0x01),
                              (0x21, Int(masterMask)), (0xa1, Int(slaveMask))] as [(UInt16, Int)] {
            pic.portWrite(port, size: 1, value: UInt32(value))
        }
    }

    private func writeEntry(_ ioapic: IOAPIC, pin: Int, low: UInt32) {
        ioapic.mmioWrite(offset: 0, size: 4, value: UInt64(0x11 + 2 * pin))
        ioapic.mmioWrite(offset: 0x10, size: 4, value: 0)   // physical destination APIC 0
        ioapic.mmioWrite(offset: 0, size: 4, value: UInt64(0x10 + 2 * pin))
        ioapic.mmioWrite(offset: 0x10, size: 4, value: UInt64(low))
    }

    private let enabled = GuestInterruptibility(interruptsEnabled: true)
    private let disabled = GuestInterruptibility(interruptsEnabled: false)

    func testISALinesFanOutAndIRQ0IsOnPin2() {
        let routing = makeRouting()
        initPIC(routing.pic, masterMask: 0xff)
        writeEntry(routing.ioapic, pin: 2, low: 0x8000 | 0x10000 | 0x30)   // level only to see the input
        writeEntry(routing.ioapic, pin: 0, low: 0x8000 | 0x10000 | 0x20)
        routing.setLevel(line: 0, high: true)
        XCTAssertEqual(routing.pic.requests & 1, 1, "8259 IR0")
        writeEntry(routing.ioapic, pin: 2, low: 0x8000 | 0x30)
        XCTAssertTrue(routing.localAPIC.isRequested(0x30), "IOAPIC pin 2 is asserted")
        writeEntry(routing.ioapic, pin: 0, low: 0x8000 | 0x20)
        XCTAssertFalse(routing.localAPIC.isRequested(0x20), "pin 0 is the 8259's INT, masked here")
        XCTAssertEqual(InterruptRouting.ioapicPin(ofLine: 0), 2)
        XCTAssertEqual(InterruptRouting.ioapicPin(ofLine: 8), 8)
        XCTAssertEqual(InterruptRouting.ioapicPin(ofLine: 19), 19)
        XCTAssertNil(InterruptRouting.ioapicPin(ofLine: 2))
    }

    func testPCILinesGoToTheIOAPICOnly() {
        let routing = makeRouting()
        initPIC(routing.pic, masterMask: 0x00, slaveMask: 0x00)
        writeEntry(routing.ioapic, pin: 17, low: 0x8000 | 0x51)
        routing.setLevel(line: 17, high: true)
        XCTAssertEqual(routing.pic.requests, 0)
        XCTAssertEqual(routing.nextInjection(enabled), .inject(vector: 0x51))
        routing.setLevel(line: 2, high: true)
        routing.setLevel(line: 24, high: true)
        routing.setLevel(line: -1, high: true)
        XCTAssertEqual(routing.errors.pending, [.noSuchLine(2), .noSuchLine(24), .noSuchLine(-1)])
    }

    func testDecisionFollowsInterruptibility() {
        let routing = makeRouting()
        XCTAssertEqual(routing.nextInjection(enabled), .nothing)
        routing.localAPIC.acceptInterrupt(vector: 0x40, level: false)
        XCTAssertEqual(routing.nextInjection(disabled), .requestWindow)
        XCTAssertEqual(routing.nextInjection(GuestInterruptibility(interruptsEnabled: true, interruptShadow: true)),
                       .requestWindow)
        XCTAssertEqual(routing.nextInjection(GuestInterruptibility(interruptsEnabled: true, eventPending: true)),
                       .requestWindow)
        XCTAssertTrue(routing.localAPIC.isRequested(0x40), "nothing acknowledged while the guest cannot take it")
        XCTAssertEqual(routing.nextInjection(enabled), .inject(vector: 0x40))
        XCTAssertTrue(routing.localAPIC.isInService(0x40))
        XCTAssertEqual(routing.nextInjection(enabled), .nothing)
    }

    func testTaskPriorityHeldVectorsNeedNoWindow() {
        let routing = makeRouting()
        routing.localAPIC.taskPriority = 0x80
        routing.localAPIC.acceptInterrupt(vector: 0x40, level: false)
        XCTAssertEqual(routing.nextInjection(disabled), .nothing, "the TPR write that releases it exits anyway")
        XCTAssertFalse(routing.wakesHaltedCPU(interruptsEnabled: true))
        routing.localAPIC.taskPriority = 0
        XCTAssertTrue(routing.wakesHaltedCPU(interruptsEnabled: true))
        XCTAssertFalse(routing.wakesHaltedCPU(interruptsEnabled: false))
    }

    func testNMIsGoFirstAndIgnoreIF() {
        let routing = makeRouting()
        routing.localAPIC.acceptInterrupt(vector: 0x40, level: false)
        routing.localAPIC.setLINT1(true)
        XCTAssertEqual(routing.nextInjection(GuestInterruptibility(interruptsEnabled: false, nmiBlocked: true)),
                       .requestWindow)
        XCTAssertTrue(routing.wakesHaltedCPU(interruptsEnabled: false))
        XCTAssertFalse(routing.wakesHaltedCPU(interruptsEnabled: false, nmiBlocked: true))
        XCTAssertEqual(routing.nextInjection(disabled), .injectNMI)
        XCTAssertEqual(routing.nextInjection(enabled), .inject(vector: 0x40))
    }

    func testBlockedNMIDoesNotHoldBackInterrupts() {
        let routing = makeRouting()
        routing.localAPIC.setLINT1(true)
        routing.localAPIC.acceptInterrupt(vector: 0x40, level: false)
        let inNMIHandler = GuestInterruptibility(interruptsEnabled: true, nmiBlocked: true)
        XCTAssertEqual(routing.nextInjection(inNMIHandler), .inject(vector: 0x40))
        XCTAssertEqual(routing.nextInjection(inNMIHandler), .requestWindow, "the NMI waits for the IRET")
        XCTAssertEqual(routing.nextInjection(enabled), .injectNMI)
        XCTAssertEqual(routing.nextInjection(enabled), .nothing)
    }

    func testVirtualWireDeliversThe8259ThroughLINT0() {
        let routing = makeRouting()
        initPIC(routing.pic, masterMask: 0xfa)
        routing.setLevel(line: 0, high: true)
        XCTAssertEqual(routing.nextInjection(disabled), .requestWindow)
        XCTAssertEqual(routing.nextInjection(enabled), .inject(vector: 0x30))
        XCTAssertEqual(routing.pic.inService, 1, "the INTA put IRQ 0 in service")
        XCTAssertFalse(routing.localAPIC.isRequested(0x30), "ExtINT bypasses IRR")
        XCTAssertEqual(routing.nextInjection(enabled), .nothing)
        // Masking LINT0 (as Linux does once the IOAPIC takes over) cuts the 8259 off.
        routing.pic.portWrite(0x20, size: 1, value: 0x20)
        routing.localAPIC.mmioWrite(offset: 0x350, size: 4, value: 0x10700)
        routing.setLevel(line: 0, high: false)
        routing.setLevel(line: 0, high: true)
        XCTAssertEqual(routing.nextInjection(enabled), .nothing)
    }

    func testExtINTThroughIOAPICPin0AndTheSpuriousAnswer() {
        let routing = makeRouting()
        routing.localAPIC.mmioWrite(offset: 0x350, size: 4, value: 0x10700)
        initPIC(routing.pic, masterMask: 0xfe)
        writeEntry(routing.ioapic, pin: 0, low: 0x700)
        routing.setLevel(line: 0, high: true)
        XCTAssertEqual(routing.nextInjection(enabled), .inject(vector: 0x30))
        // An ExtINT message whose request has gone: the 8259 answers with IRQ 7's vector.
        routing.pic.portWrite(0x20, size: 1, value: 0x20)
        routing.setLevel(line: 0, high: false)
        routing.setLevel(line: 0, high: true)
        routing.synchronize()
        routing.pic.portWrite(0x21, size: 1, value: 0xff)
        XCTAssertEqual(routing.nextInjection(enabled), .inject(vector: 0x37))
        XCTAssertEqual(routing.pic.inService, 0)
    }

    func testHardwareDisabledAPICPassesINTRAndNMI() {
        let routing = makeRouting()
        XCTAssertTrue(routing.localAPIC.writeBaseMSR(0xfee0_0100))
        initPIC(routing.pic, masterMask: 0xfe)
        routing.setLevel(line: 0, high: true)
        XCTAssertEqual(routing.nextInjection(enabled), .inject(vector: 0x30))
    }
}
