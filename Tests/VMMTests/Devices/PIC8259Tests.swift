import XCTest
@testable import DeviceModels

final class PIC8259Tests: XCTestCase {
    /// Linux's init_8259A(auto_eoi), port for port (arch/x86/kernel/i8259.c), then the masks it restores.
    private func linuxInit(_ pic: PIC8259, autoEOI: Bool = false, masterMask: UInt8 = 0xfb, slaveMask: UInt8 = 0xff) {
        pic.portWrite(0x21, size: 1, value: 0xff)          // mask all of 8259A-1
        pic.portWrite(0x20, size: 1, value: 0x11)          // ICW1: select 8259A-1 init
        pic.portWrite(0x21, size: 1, value: 0x30)          // ICW2: IR0-7 at ISA_IRQ_VECTOR(0)
        pic.portWrite(0x21, size: 1, value: 0x04)          // ICW3: slave on IR2
        pic.portWrite(0x21, size: 1, value: autoEOI ? 0x03 : 0x01)  // ICW4: 8086 mode (+ auto EOI)
        pic.portWrite(0xa0, size: 1, value: 0x11)
        pic.portWrite(0xa1, size: 1, value: 0x38)          // ICW2: IR8-15 at ISA_IRQ_VECTOR(8)
        pic.portWrite(0xa1, size: 1, value: 0x02)          // ICW3: slave on master's IR2
        pic.portWrite(0xa1, size: 1, value: 0x01)
        pic.portWrite(0x21, size: 1, value: UInt32(masterMask))
        pic.portWrite(0xa1, size: 1, value: UInt32(slaveMask))
    }

    private func read(_ pic: PIC8259, _ port: UInt16) -> UInt8 { UInt8(pic.portRead(port, size: 1)) }

    /// mask_and_ack_8259A's EOIs.
    private func linuxEOI(_ pic: PIC8259, irq: Int) {
        if irq >= 8 {
            pic.portWrite(0xa0, size: 1, value: UInt32(0x60 + irq - 8))
            pic.portWrite(0x20, size: 1, value: 0x62)
        } else {
            pic.portWrite(0x20, size: 1, value: UInt32(0x60 + irq))
        }
    }

    func testLinuxProbeReadsBackTheMask() {
        let pic = PIC8259()
        pic.portWrite(0xa1, size: 1, value: 0xff)
        pic.portWrite(0x21, size: 1, value: 0xfb)   // probe_8259A: all but the cascade
        XCTAssertEqual(read(pic, 0x21), 0xfb)
        XCTAssertTrue(pic.errors.pending.isEmpty)
    }

    func testLinuxInitThenTimerInterrupt() {
        let pic = PIC8259()
        linuxInit(pic, masterMask: 0xfa)  // IRQ 0 and the cascade unmasked
        XCTAssertTrue(pic.errors.pending.isEmpty)
        XCTAssertNil(pic.pendingVector())
        pic.setLevel(irq: 0, high: true)
        XCTAssertTrue(pic.interruptOutput)
        XCTAssertEqual(pic.pendingVector(), 0x30)
        XCTAssertEqual(read(pic, 0x20), 0x01, "reads IRR after init")
        XCTAssertEqual(pic.acknowledge(), 0x30)
        XCTAssertEqual(pic.inService, 0x0001)
        pic.portWrite(0x20, size: 1, value: 0x0b)   // i8259A_irq_real: read ISR
        XCTAssertEqual(read(pic, 0x20), 0x01)
        pic.portWrite(0x20, size: 1, value: 0x0a)
        XCTAssertEqual(read(pic, 0x20), 0x00, "the edge latch cleared at INTA")
        // The line stays high: no new request until it falls and rises again.
        XCTAssertNil(pic.pendingVector())
        linuxEOI(pic, irq: 0)
        XCTAssertEqual(pic.inService, 0)
        XCTAssertNil(pic.pendingVector())
        pic.setLevel(irq: 0, high: false)
        pic.setLevel(irq: 0, high: true)
        XCTAssertEqual(pic.acknowledge(), 0x30)
    }

    func testPulseLatchesUntilAcknowledged() {
        let pic = PIC8259()
        linuxInit(pic, masterMask: 0x00)
        pic.setLevel(irq: 4, high: true)
        pic.setLevel(irq: 4, high: false)
        XCTAssertEqual(pic.pendingVector(), 0x34)
    }

    func testMaskedRequestWaitsAndIsDeliveredWhenUnmasked() {
        let pic = PIC8259()
        linuxInit(pic, masterMask: 0xff)
        pic.setLevel(irq: 3, high: true)
        XCTAssertNil(pic.pendingVector())
        XCTAssertEqual(pic.requests & 0x08, 0x08, "IRR holds it")
        pic.portWrite(0x21, size: 1, value: 0xf7)
        XCTAssertEqual(pic.pendingVector(), 0x33)
    }

    func testPriorityAndNesting() {
        let pic = PIC8259()
        linuxInit(pic, masterMask: 0x00)
        pic.setLevel(irq: 5, high: true)
        XCTAssertEqual(pic.acknowledge(), 0x35)
        // A lower priority request waits for the EOI; a higher one nests.
        pic.setLevel(irq: 6, high: true)
        XCTAssertNil(pic.pendingVector())
        pic.setLevel(irq: 1, high: true)
        XCTAssertEqual(pic.acknowledge(), 0x31)
        XCTAssertEqual(pic.inService, 0x22)
        pic.portWrite(0x20, size: 1, value: 0x20)   // non-specific EOI: the highest in service (IRQ 1)
        XCTAssertEqual(pic.inService, 0x20)
        XCTAssertNil(pic.pendingVector(), "IRQ 5 still in service blocks IRQ 6")
        pic.portWrite(0x20, size: 1, value: 0x20)
        XCTAssertEqual(pic.acknowledge(), 0x36)
    }

    func testSlaveInterruptThroughCascadeAndLinuxEOI() {
        let pic = PIC8259()
        linuxInit(pic, masterMask: 0xfb, slaveMask: 0xfe)   // IRQ 8 (the RTC)
        pic.setLevel(irq: 8, high: true)
        XCTAssertEqual(pic.pendingVector(), 0x38)
        XCTAssertEqual(pic.acknowledge(), 0x38)
        XCTAssertEqual(pic.inService, 0x0104, "slave IR0 and master IR2 in service")
        linuxEOI(pic, irq: 8)
        XCTAssertEqual(pic.inService, 0)
    }

    func testSecondSlaveRequestIsNotLostWhileTheFirstIsInService() {
        let pic = PIC8259()
        linuxInit(pic, masterMask: 0xfb, slaveMask: 0x00)
        pic.setLevel(irq: 12, high: true)
        XCTAssertEqual(pic.acknowledge(), 0x3c)
        pic.setLevel(irq: 9, high: true)  // higher priority than 12, the cascade is in service on the master
        XCTAssertNil(pic.pendingVector())
        linuxEOI(pic, irq: 12)
        XCTAssertEqual(pic.acknowledge(), 0x39)
    }

    func testSpuriousIRQ7AndIRQ15() {
        let pic = PIC8259()
        linuxInit(pic, masterMask: 0xfb, slaveMask: 0x00)
        XCTAssertEqual(pic.acknowledge(), 0x37, "INTA with nothing pending: IRQ 7's vector")
        XCTAssertEqual(pic.inService, 0, "and no in-service bit")
        // A slave request withdrawn (masked) after it reached the master: the slave answers with IRQ 15.
        pic.setLevel(irq: 10, high: true)
        pic.portWrite(0xa1, size: 1, value: 0xff)
        XCTAssertEqual(pic.acknowledge(), 0x3f)
        XCTAssertEqual(pic.inService, 0x0004, "only the master's cascade in service, as Linux expects")
        linuxEOI(pic, irq: 15)
        XCTAssertEqual(pic.inService, 0)
    }

    func testAutoEOIAsLinuxCheckTimerSetsIt() {
        let pic = PIC8259()
        linuxInit(pic, autoEOI: true, masterMask: 0xfa)
        pic.setLevel(irq: 0, high: true)
        XCTAssertEqual(pic.acknowledge(), 0x30)
        XCTAssertEqual(pic.inService, 0, "auto-EOI: nothing stays in service")
        pic.setLevel(irq: 0, high: false)
        pic.setLevel(irq: 0, high: true)
        XCTAssertEqual(pic.acknowledge(), 0x30)
    }

    func testLevelTriggeredLineViaELCR() {
        let pic = PIC8259()
        linuxInit(pic, masterMask: 0x00, slaveMask: 0x00)
        pic.portWrite(0x4d1, size: 1, value: 0xff)
        XCTAssertEqual(read(pic, 0x4d1), 0xde, "IRQ 8 and 13 stay edge-triggered")
        pic.portWrite(0x4d0, size: 1, value: 0xff)
        XCTAssertEqual(read(pic, 0x4d0), 0xf8, "IRQ 0, 1, 2 stay edge-triggered")
        pic.setLevel(irq: 11, high: true)
        XCTAssertEqual(pic.acknowledge(), 0x3b)
        linuxEOI(pic, irq: 11)
        XCTAssertEqual(pic.pendingVector(), 0x3b, "a level request is there again while the line is high")
        pic.setLevel(irq: 11, high: false)
        XCTAssertEqual(pic.requests & 0x0800, 0, "and gone from IRR when it drops, without an INTA")
        XCTAssertEqual(pic.pendingVector(), 0x3f, "the cascade request it raised is now spurious IRQ 15")
        XCTAssertEqual(pic.acknowledge(), 0x3f)
        linuxEOI(pic, irq: 15)
        // Linux's handle_level_irq masks the line and EOIs before the device drops it: nothing spurious then.
        pic.setLevel(irq: 11, high: true)
        XCTAssertEqual(pic.acknowledge(), 0x3b)
        pic.portWrite(0xa1, size: 1, value: 0x08)
        linuxEOI(pic, irq: 11)
        pic.setLevel(irq: 11, high: false)
        pic.portWrite(0xa1, size: 1, value: 0x00)
        XCTAssertNil(pic.pendingVector())
        XCTAssertEqual(pic.inService, 0)
    }

    func testSpecificEOIRotationAndPriorityCommand() {
        let pic = PIC8259()
        linuxInit(pic, masterMask: 0x00)
        pic.portWrite(0x20, size: 1, value: 0xc4)   // set priority: IR4 lowest, IR5 highest
        pic.setLevel(irq: 1, high: true)
        pic.setLevel(irq: 6, high: true)
        XCTAssertEqual(pic.acknowledge(), 0x36)
        pic.portWrite(0x20, size: 1, value: 0x66)   // specific EOI IR6
        pic.portWrite(0x20, size: 1, value: 0xc7)   // back to IR0 highest
        XCTAssertEqual(pic.acknowledge(), 0x31)
        pic.portWrite(0x20, size: 1, value: 0xa0)   // rotate on non-specific EOI: IR1 becomes lowest
        pic.setLevel(irq: 0, high: false)
        pic.setLevel(irq: 0, high: true)
        pic.setLevel(irq: 3, high: true)
        XCTAssertEqual(pic.acknowledge(), 0x33, "after rotation IR3 outranks IR0")
    }

    func testPollCommand() {
        let pic = PIC8259()
        linuxInit(pic, masterMask: 0x00)
        pic.portWrite(0x20, size: 1, value: 0x0c)
        XCTAssertEqual(read(pic, 0x20), 0x00, "poll with nothing pending")
        pic.setLevel(irq: 5, high: true)
        pic.portWrite(0x20, size: 1, value: 0x0c)
        XCTAssertEqual(read(pic, 0x20), 0x85)
        XCTAssertEqual(pic.inService, 0x20, "a poll read is an INTA")
    }

    func testSpecialMaskMode() {
        let pic = PIC8259()
        linuxInit(pic, masterMask: 0x00)
        pic.setLevel(irq: 1, high: true)
        XCTAssertEqual(pic.acknowledge(), 0x31)
        pic.setLevel(irq: 6, high: true)
        XCTAssertNil(pic.pendingVector())
        pic.portWrite(0x20, size: 1, value: 0x68)   // OCW3: set special mask mode
        XCTAssertEqual(pic.pendingVector(), 0x36, "in-service IR1 blocks only itself")
        pic.portWrite(0x20, size: 1, value: 0x48)
        XCTAssertNil(pic.pendingVector())
    }

    func testRotateInAutoEOIMode() {
        let pic = PIC8259()
        linuxInit(pic, autoEOI: true, masterMask: 0x00)
        pic.portWrite(0x20, size: 1, value: 0x80)   // rotate in auto-EOI mode: set
        pic.setLevel(irq: 1, high: true)
        XCTAssertEqual(pic.acknowledge(), 0x31)
        pic.setLevel(irq: 0, high: true)
        pic.setLevel(irq: 3, high: true)
        XCTAssertEqual(pic.acknowledge(), 0x33, "IR1 went to the lowest priority, so IR3 now outranks IR0")
        pic.portWrite(0x20, size: 1, value: 0x00)   // clear: no more rotation
        XCTAssertEqual(pic.acknowledge(), 0x30)
        pic.setLevel(irq: 3, high: false)
        pic.setLevel(irq: 3, high: true)
        pic.setLevel(irq: 5, high: true)
        XCTAssertEqual(pic.acknowledge(), 0x35, "still the order after IR3, which was lowest last")
    }

    func testSpecialFullyNestedMasterLetsHigherSlaveRequestsThrough() {
        let pic = PIC8259()
        pic.portWrite(0x20, size: 1, value: 0x11)
        pic.portWrite(0x21, size: 1, value: 0x30)
        pic.portWrite(0x21, size: 1, value: 0x04)
        pic.portWrite(0x21, size: 1, value: 0x11)   // 8086 mode, special fully nested
        for value: UInt32 in [0x11, 0x38, 0x02, 0x01] {
            pic.portWrite(value == 0x11 ? 0xa0 : 0xa1, size: 1, value: value)
        }
        pic.portWrite(0x21, size: 1, value: 0x00)
        pic.portWrite(0xa1, size: 1, value: 0x00)
        pic.setLevel(irq: 12, high: true)
        XCTAssertEqual(pic.acknowledge(), 0x3c)
        pic.setLevel(irq: 9, high: true)
        XCTAssertEqual(pic.acknowledge(), 0x39, "the master's cascade in service does not block the slave")
        pic.setLevel(irq: 13, high: true)
        XCTAssertNil(pic.pendingVector(), "but the slave's own priorities still hold")
    }

    func testReinitializationClearsLatchesAndMasks() {
        let pic = PIC8259()
        linuxInit(pic, masterMask: 0xff)
        pic.setLevel(irq: 3, high: true)
        linuxInit(pic, masterMask: 0x00)
        XCTAssertNil(pic.pendingVector(), "a request must rise again after initialization")
    }

    func testBadProgrammingIsRecordedAndHarmless() {
        let pic = PIC8259()
        pic.portWrite(0x20, size: 1, value: 0x1a)   // ICW1 with LTIM and single, no ICW4
        pic.portWrite(0x21, size: 1, value: 0x08)
        XCTAssertEqual(pic.errors.pending, [.unsupportedCommand(.pic, value: 0x1a)])
        pic.portWrite(0x21, size: 1, value: 0x00)   // OCW1 now: initialization was done after ICW2
        XCTAssertEqual(read(pic, 0x21), 0x00)
        pic.setLevel(irq: 2, high: true)
        pic.setLevel(irq: 16, high: true)
        XCTAssertEqual(pic.portRead(0x20, size: 2), 0xffff)
        pic.portWrite(0x21, size: 4, value: 0)
        XCTAssertEqual(pic.errors.pending.count, 5)
        XCTAssertEqual(pic.errors.pending[1], .noSuchLine(2))
        XCTAssertEqual(pic.errors.pending[3], .unsupportedAccess(.pic, offset: 0x20, size: 2, write: false))
        // A slave programmed with another cascade identity still answers (and is reported).
        pic.portWrite(0xa0, size: 1, value: 0x11)
        pic.portWrite(0xa1, size: 1, value: 0x70)
        pic.portWrite(0xa1, size: 1, value: 0x05)
        XCTAssertEqual(pic.errors.pending.last, .unsupportedCommand(.pic, value: 0x05))
    }
}
