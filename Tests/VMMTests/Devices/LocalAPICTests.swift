import XCTest
@testable import DeviceModels

final class LocalAPICTests: XCTestCase {
    private func read(_ apic: LocalAPIC, _ offset: UInt64) -> UInt32 { UInt32(apic.mmioRead(offset: offset, size: 4)) }
    private func write(_ apic: LocalAPIC, _ offset: UInt64, _ value: UInt32) {
        apic.mmioWrite(offset: offset, size: 4, value: UInt64(value))
    }

    /// setup_local_APIC as Linux runs it on the boot CPU in IOAPIC mode (arch/x86/kernel/apic/apic.c).
    private func linuxSetup(_ apic: LocalAPIC) {
        write(apic, 0xf0, read(apic, 0xf0) & ~0x100)           // soft-disable first (kexec safety)
        write(apic, 0xe0, 0xffff_ffff)                          // flat logical destinations
        write(apic, 0xd0, read(apic, 0xd0) & 0x00ff_ffff | 1 << 24)
        write(apic, 0x80, read(apic, 0x80) & ~0xff | 0x10)     // accept all except vectors 0-31
        for index in (0..<8).reversed() {                       // apic_pending_intr_clear
            XCTAssertEqual(read(apic, 0x100 + UInt64(index) * 0x10), 0)
            XCTAssertEqual(read(apic, 0x200 + UInt64(index) * 0x10), 0)
        }
        write(apic, 0xf0, read(apic, 0xf0) & ~0xff | 0x100 | 0xff)
        let lint0Masked = read(apic, 0x350) & 0x10000
        XCTAssertNotEqual(lint0Masked, 0, "the soft-disable masked LINT0")
        write(apic, 0x350, 0x700 | 0x10000)                     // ExtINT, masked: the IOAPIC takes over
        write(apic, 0x360, 0x400)                               // LINT1: NMI
        write(apic, 0x280, 0)                                   // maxlvt > 3: clear ESR first
        write(apic, 0x370, 0xfe)                                // ERROR_APIC_VECTOR
        write(apic, 0x280, 0)
        XCTAssertEqual(read(apic, 0x280), 0)
    }

    private func nanoseconds(_ ticks: UInt64) -> UInt64 { ticks }  // the default 1 GHz bus

    func testFirmwareHandOffState() {
        let apic = LocalAPIC()
        XCTAssertEqual(read(apic, 0x30), 0x0005_0014)
        XCTAssertEqual(read(apic, 0x20), 0)
        XCTAssertEqual(read(apic, 0xf0), 0x1ff)
        XCTAssertEqual(read(apic, 0x350), 0x700, "LINT0 ExtINT: virtual wire")
        XCTAssertEqual(read(apic, 0x360), 0x400, "LINT1 NMI")
        for offset: UInt64 in [0x320, 0x330, 0x340, 0x370] { XCTAssertEqual(read(apic, offset), 0x10000) }
        XCTAssertEqual(read(apic, 0xe0), 0xffff_ffff)
        XCTAssertTrue(apic.passesExtINT)
        XCTAssertEqual(apic.baseMSR, 0xfee0_0900)
        let powerOn = LocalAPIC(virtualWire: false)
        XCTAssertEqual(read(powerOn, 0xf0), 0xff)
        XCTAssertEqual(read(powerOn, 0x350), 0x10000)
        XCTAssertFalse(powerOn.passesExtINT)
    }

    func testLinuxSetupSequence() {
        let apic = LocalAPIC()
        linuxSetup(apic)
        XCTAssertEqual(read(apic, 0x80), 0x10)
        XCTAssertEqual(read(apic, 0xa0), 0x10)
        XCTAssertEqual(read(apic, 0xd0), 0x0100_0000)
        XCTAssertEqual(read(apic, 0xf0), 0x1ff)
        XCTAssertEqual(read(apic, 0x350), 0x10700)
        XCTAssertFalse(apic.passesExtINT)
        XCTAssertEqual(read(apic, 0x360), 0x400)
        XCTAssertEqual(read(apic, 0x370), 0xfe)
        XCTAssertTrue(apic.errors.pending.isEmpty)
    }

    func testPriorityRules() {
        let apic = LocalAPIC()
        linuxSetup(apic)
        XCTAssertEqual(apic.acceptInterrupt(vector: 0x1f, level: false), .accepted)
        XCTAssertNil(apic.highestDeliverable(), "TPR 0x10 holds back class 1")
        apic.acceptInterrupt(vector: 0x31, level: false)
        apic.acceptInterrupt(vector: 0x51, level: false)
        XCTAssertEqual(apic.highestDeliverable(), 0x51)
        XCTAssertTrue(apic.acknowledge(0x51))
        XCTAssertFalse(apic.acknowledge(0x51), "no longer requested")
        XCTAssertEqual(read(apic, 0xa0), 0x50, "PPR: the class in service")
        XCTAssertNil(apic.highestDeliverable(), "0x31 is below the class in service")
        apic.acceptInterrupt(vector: 0x52, level: false)
        XCTAssertNil(apic.highestDeliverable(), "the same class waits too")
        apic.acceptInterrupt(vector: 0x61, level: false)
        XCTAssertEqual(apic.highestDeliverable(), 0x61)
        write(apic, 0x80, 0x70)
        XCTAssertNil(apic.highestDeliverable(), "TPR above it")
        XCTAssertEqual(read(apic, 0xa0), 0x70)
        write(apic, 0x80, 0x00)
        apic.acknowledge(0x61)
        XCTAssertEqual(apic.inServiceVectors, [0x51, 0x61])
        write(apic, 0xb0, 0)                       // EOI: the highest in service
        XCTAssertEqual(apic.inServiceVectors, [0x51])
        XCTAssertEqual(apic.highestDeliverable(), nil, "0x52 still waits for 0x51")
        write(apic, 0xb0, 0)
        XCTAssertEqual(apic.highestDeliverable(), 0x52)
        XCTAssertEqual(read(apic, 0x200), 0x8000_0000, "IRR 0-31: vector 0x1f")
        XCTAssertEqual(read(apic, 0x210), 0x0002_0000, "IRR 32-63: vector 0x31")
    }

    func testRegistersReadTheVectorSets() {
        let apic = LocalAPIC()
        apic.acceptInterrupt(vector: 0x31, level: true)
        apic.acceptInterrupt(vector: 0xfe, level: false)
        XCTAssertEqual(read(apic, 0x210), 0x0002_0000, "IRR 32-63: bit 17 is vector 0x31")
        XCTAssertEqual(read(apic, 0x270), 0x4000_0000, "IRR 224-255: vector 0xfe")
        XCTAssertEqual(read(apic, 0x190), 0x0002_0000, "TMR: 0x31 was level-triggered")
        XCTAssertEqual(read(apic, 0x1f0), 0)
        XCTAssertEqual(read(apic, 0x90), 0xf0, "APR follows the highest request")
    }

    func testOneShotTimer() {
        let apic = LocalAPIC()
        linuxSetup(apic)
        write(apic, 0x3e0, 0x3)                    // divide by 16
        write(apic, 0x320, 0xec)                   // one-shot, LOCAL_TIMER_VECTOR
        write(apic, 0x380, 1000)
        XCTAssertEqual(apic.nextDeadline, 16_000)
        apic.advance(to: 8_000)
        XCTAssertEqual(read(apic, 0x390), 500)
        XCTAssertNil(apic.highestDeliverable())
        apic.advance(to: 16_000)
        XCTAssertEqual(apic.highestDeliverable(), 0xec)
        XCTAssertEqual(read(apic, 0x390), 0)
        XCTAssertNil(apic.nextDeadline)
        apic.acknowledge(0xec)
        write(apic, 0xb0, 0)
        apic.advance(to: 1_000_000)
        XCTAssertNil(apic.highestDeliverable(), "once")
    }

    func testPeriodicTimerAtHZ250() {
        let apic = LocalAPIC()
        linuxSetup(apic)
        // __setup_APIC_LVTT: periodic, divide 16, the calibrated period / 16.
        write(apic, 0x320, 0x20000 | 0xec)
        write(apic, 0x3e0, read(apic, 0x3e0) & ~0xf | 0x3)
        write(apic, 0x380, 1_000_000_000 / 250 / 16)
        var interrupts = 0
        while let deadline = apic.nextDeadline, deadline <= 1_000_000_000 {
            XCTAssertGreaterThan(deadline, apic.now)
            apic.advance(to: deadline)
            if let vector = apic.highestDeliverable() {
                XCTAssertEqual(vector, 0xec)
                apic.acknowledge(vector)
                write(apic, 0xb0, 0)
                interrupts += 1
            }
        }
        XCTAssertEqual(interrupts, 250)
    }

    func testLinuxCalibrationReadsTheCurrentCount() {
        let apic = LocalAPIC(timerHertz: 100_000_000)  // a 100 MHz bus this time
        linuxSetup(apic)
        write(apic, 0x320, 0x20000 | 0x10000 | 0xec) // periodic, masked
        write(apic, 0x3e0, 0x3)
        write(apic, 0x380, 0xffff_ffff / 16)
        apic.advance(to: 7_000_000)
        let first = read(apic, 0x390)
        apic.advance(to: 107_000_000)                // LAPIC_CAL_LOOPS jiffies: 100 ms
        let delta = first - read(apic, 0x390)
        XCTAssertEqual(delta, 100_000_000 / 10 / 16, "the bus clock divided by 16 over 100 ms")
        XCTAssertNil(apic.nextDeadline, "masked: nothing to wake up for")
        XCTAssertNil(apic.highestDeliverable())
    }

    func testDivideChangeKeepsTheCount() {
        let apic = LocalAPIC()
        write(apic, 0x3e0, 0xb)                    // divide by 1
        write(apic, 0x320, 0x30)
        write(apic, 0x380, 1000)
        apic.advance(to: 400)
        write(apic, 0x3e0, 0x0)                    // divide by 2
        XCTAssertEqual(read(apic, 0x390), 600)
        XCTAssertEqual(apic.nextDeadline, 400 + 1200)
        write(apic, 0x380, 0)
        XCTAssertNil(apic.nextDeadline, "count 0 stops the timer")
        XCTAssertEqual(read(apic, 0x390), 0)
    }

    func testSelfIPIs() {
        let apic = LocalAPIC()
        linuxSetup(apic)
        write(apic, 0x300, 0x40000 | 0xf3)         // shorthand self, fixed
        XCTAssertTrue(apic.isRequested(0xf3))
        XCTAssertEqual(read(apic, 0x300) & 0x1000, 0, "delivery status idle")
        write(apic, 0x310, 0)                      // physical destination 0: this APIC
        write(apic, 0x300, 0xe5)
        XCTAssertTrue(apic.isRequested(0xe5))
        write(apic, 0x310, 0x0100_0000)            // logical destination 1: flat LDR 1
        write(apic, 0x300, 0x800 | 0xd4)
        XCTAssertTrue(apic.isRequested(0xd4))
        write(apic, 0x300, 0x40000 | 0x400)        // NMI to self
        XCTAssertTrue(apic.nmiPending)
        XCTAssertTrue(apic.takeNMI())
        XCTAssertFalse(apic.nmiPending)
        XCTAssertTrue(apic.errors.pending.isEmpty)
    }

    func testIPIsThisVMCannotDeliver() {
        let apic = LocalAPIC()
        linuxSetup(apic)
        write(apic, 0x310, 0x0300_0000)
        write(apic, 0x300, 0x4500)                 // INIT to APIC 3
        write(apic, 0x300, 0x4600 | 0x9a)          // SIPI
        write(apic, 0x300, 0xc0000 | 0xfd)         // fixed, all excluding self
        write(apic, 0x300, 0xe5)                   // fixed to APIC 3
        write(apic, 0x300, 0xc8500)                // INIT level de-assert to all: a no-op
        XCTAssertEqual(apic.errors.pending, [
            .unsupportedDeliveryMode(.localAPIC, source: -1, mode: 5),
            .unsupportedDeliveryMode(.localAPIC, source: -1, mode: 6),
            .noDestination(.localAPIC, source: -1, destination: 0xff),
            .noDestination(.localAPIC, source: -1, destination: 3),
        ])
        XCTAssertNil(apic.highestDeliverable())
    }

    func testIllegalVectorsAndTheESR() {
        let apic = LocalAPIC()
        linuxSetup(apic)
        XCTAssertEqual(apic.acceptInterrupt(vector: 10, level: false), .illegalVector)
        XCTAssertFalse(apic.isRequested(10))
        XCTAssertEqual(read(apic, 0x280), 0, "the ESR shows errors only after it is written")
        write(apic, 0x280, 0)
        XCTAssertEqual(read(apic, 0x280), LocalAPIC.receiveIllegalVector)
        XCTAssertTrue(apic.isRequested(0xfe), "the error LVT's interrupt")
        write(apic, 0x300, 0x40000 | 0x05)         // self-IPI with vector 5
        write(apic, 0x280, 0)
        XCTAssertEqual(read(apic, 0x280), LocalAPIC.sendIllegalVector | LocalAPIC.receiveIllegalVector)
        XCTAssertEqual(apic.errors.pending, [.reservedVector(.localAPIC, source: -1, vector: 5)])
        write(apic, 0x280, 0)
        XCTAssertEqual(read(apic, 0x280), 0, "a write clears what was logged")
        // An LVT timer with an illegal vector fires into the ESR, not IRR.
        write(apic, 0x320, 0x0a)
        write(apic, 0x380, 10)
        apic.advance(to: 1000)
        write(apic, 0x280, 0)
        XCTAssertEqual(read(apic, 0x280), LocalAPIC.receiveIllegalVector)
        XCTAssertFalse(apic.isRequested(0x0a))
    }

    func testSoftwareDisabledRefusesAndMasks() {
        let apic = LocalAPIC(virtualWire: false)
        XCTAssertEqual(apic.acceptInterrupt(vector: 0x40, level: false), .softwareDisabled)
        write(apic, 0x320, 0x40)
        XCTAssertEqual(read(apic, 0x320), 0x10040, "the mask stays while software-disabled")
        write(apic, 0xf0, 0x1ff)
        write(apic, 0x320, 0x40)
        XCTAssertEqual(read(apic, 0x320), 0x40)
        write(apic, 0xf0, 0xff)
        XCTAssertEqual(read(apic, 0x320), 0x10040, "disabling masks every entry")
    }

    func testLevelTriggeredLINT0WithRemoteIRR() {
        let apic = LocalAPIC()
        write(apic, 0x350, 0x8000 | 0x40)          // fixed, level, vector 0x40
        apic.setLINT0(true)
        XCTAssertTrue(apic.isRequested(0x40))
        XCTAssertTrue(apic.isLevelTriggered(0x40))
        XCTAssertEqual(read(apic, 0x350) & 0x4000, 0x4000, "remote IRR")
        apic.acknowledge(0x40)
        write(apic, 0xb0, 0)
        XCTAssertEqual(apic.takeEOIBroadcasts(), [0x40])
        XCTAssertTrue(apic.isRequested(0x40), "still asserted: delivered again after the EOI")
        apic.acknowledge(0x40)
        apic.setLINT0(false)
        write(apic, 0xb0, 0)
        XCTAssertEqual(apic.takeEOIBroadcasts(), [0x40])
        XCTAssertEqual(read(apic, 0x350) & 0x4000, 0)
        XCTAssertFalse(apic.isRequested(0x40))
        // Edge-triggered fixed LINT0 (Linux's "virtual wire IRQ" timer fallback): one per rising edge.
        write(apic, 0x350, 0x31)
        apic.setLINT0(true)
        apic.setLINT0(true)
        XCTAssertTrue(apic.isRequested(0x31))
        XCTAssertFalse(apic.isLevelTriggered(0x31))
        XCTAssertEqual(apic.takeEOIBroadcasts(), [])
    }

    func testLINT1NMIOnRisingEdges() {
        let apic = LocalAPIC()
        apic.setLINT1(true)
        XCTAssertTrue(apic.takeNMI())
        apic.setLINT1(true)
        XCTAssertFalse(apic.nmiPending)
        write(apic, 0x360, 0x10400)
        apic.setLINT1(false)
        apic.setLINT1(true)
        XCTAssertFalse(apic.nmiPending, "masked")
    }

    func testLogicalDestinations() {
        let apic = LocalAPIC(id: 2)
        write(apic, 0xd0, 0x0400_0000)
        XCTAssertTrue(apic.addressed(by: 0x06, logical: true), "flat: any common bit")
        XCTAssertFalse(apic.addressed(by: 0x03, logical: true))
        write(apic, 0xe0, 0x0fff_ffff)             // cluster model
        write(apic, 0xd0, 0x2100_0000)             // cluster 2, member 1
        XCTAssertTrue(apic.addressed(by: 0x23, logical: true))
        XCTAssertFalse(apic.addressed(by: 0x13, logical: true))
        XCTAssertTrue(apic.addressed(by: 0xff, logical: true))
        XCTAssertTrue(apic.addressed(by: 2, logical: false))
        XCTAssertFalse(apic.addressed(by: 0, logical: false))
    }

    func testOddAccessesReadZeroAndAreDropped() {
        let apic = LocalAPIC()
        XCTAssertEqual(apic.mmioRead(offset: 0x32, size: 1), 0x05, "byte reads inside a register work")
        XCTAssertEqual(apic.mmioRead(offset: 0x30, size: 2), 0x0014)
        XCTAssertEqual(apic.mmioRead(offset: 0x30, size: 8), 0)
        XCTAssertEqual(apic.mmioRead(offset: 0x34, size: 4), 0)
        XCTAssertEqual(apic.mmioRead(offset: 0x33, size: 2), 0)
        apic.mmioWrite(offset: 0x80, size: 1, value: 0xff)
        apic.mmioWrite(offset: 0x84, size: 4, value: 0xff)
        apic.mmioWrite(offset: 0x80, size: 8, value: 0xff)
        XCTAssertEqual(read(apic, 0x80), 0)
        write(apic, 0x30, 0)                        // version: read-only
        write(apic, 0x390, 5)
        XCTAssertEqual(read(apic, 0x30), 0x0005_0014)
        XCTAssertEqual(apic.errors.pending.count, 8)
        XCTAssertEqual(apic.errors.pending[6], .readOnlyRegister(.localAPIC, register: 0x30))
        // A reserved register sets the ESR's illegal register address bit.
        _ = read(apic, 0x2f0)
        write(apic, 0x280, 0)
        XCTAssertEqual(read(apic, 0x280), LocalAPIC.illegalRegisterAddress)
        XCTAssertEqual(apic.errors.pending.last, .reservedRegister(.localAPIC, register: 0x2f0))
        XCTAssertEqual(apic.mmioRead(offset: 0x1000, size: 4), 0)
    }

    func testBaseMSR() {
        let apic = LocalAPIC()
        XCTAssertFalse(apic.writeBaseMSR(0xfee0_0900 | 1 << 10), "x2APIC is not offered: #GP")
        XCTAssertFalse(apic.writeBaseMSR(0x0100_0000_0000 | 0x900), "beyond 40 physical address bits")
        XCTAssertTrue(apic.writeBaseMSR(0xfed0_0900))
        XCTAssertEqual(apic.mmioBase, 0xfed0_0000)
        apic.acceptInterrupt(vector: 0x40, level: false)
        XCTAssertTrue(apic.writeBaseMSR(0xfee0_0100))   // globally disabled
        XCTAssertFalse(apic.hardwareEnabled)
        XCTAssertTrue(apic.passesExtINT, "LINT0 is the CPU's INTR pin now")
        XCTAssertFalse(apic.isRequested(0x40))
        XCTAssertEqual(apic.acceptInterrupt(vector: 0x41, level: false), .softwareDisabled)
        XCTAssertEqual(apic.mmioRead(offset: 0x30, size: 4), 0, "no registers while disabled")
        apic.setLINT1(true)
        XCTAssertTrue(apic.nmiPending, "LINT1 is the NMI pin")
        XCTAssertTrue(apic.writeBaseMSR(0xfee0_0900))
        XCTAssertEqual(read(apic, 0xf0), 0xff, "re-enabled in the power-on state")
    }

    func testDeadlinesAreNeverInThePast() {
        var random = SeededGenerator(seed: 5)
        let apic = LocalAPIC(timerHertz: 250_000_000)
        var time: UInt64 = 0
        for _ in 0..<3000 {
            switch Int.random(in: 0..<5, using: &random) {
            case 0: write(apic, 0x320, UInt32.random(in: 0...0x3ffff, using: &random))
            case 1: write(apic, 0x3e0, UInt32.random(in: 0...0xf, using: &random))
            case 2: write(apic, 0x380, UInt32.random(in: 0...100_000, using: &random))
            default: break
            }
            time += UInt64.random(in: 0...500_000, using: &random)
            apic.advance(to: time)
            if let deadline = apic.nextDeadline { XCTAssertGreaterThan(deadline, time) }
        }
    }
}
