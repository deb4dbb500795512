import XCTest
@testable import DeviceModels

/// The devices together, driven the way the VMM's exit loop will drive them.
final class InterruptAndTimerDevicesTests: XCTestCase {
    private let second: UInt64 = 1_000_000_000

    private func outb(_ devices: InterruptAndTimerDevices, _ port: UInt16, _ value: UInt8) {
        devices.portDevice(for: port)?.portWrite(port, size: 1, value: UInt32(value))
    }

    private func inb(_ devices: InterruptAndTimerDevices, _ port: UInt16) -> UInt8 {
        UInt8(truncatingIfNeeded: devices.portDevice(for: port)?.portRead(port, size: 1) ?? 0xff)
    }

    private func mmioWrite(_ devices: InterruptAndTimerDevices, _ address: UInt64, _ value: UInt32) {
        guard let (device, offset) = devices.mmioDevice(at: address) else { return XCTFail("nothing at \(address)") }
        device.mmioWrite(offset: offset, size: 4, value: UInt64(value))
    }

    private func mmioRead(_ devices: InterruptAndTimerDevices, _ address: UInt64) -> UInt32 {
        guard let (device, offset) = devices.mmioDevice(at: address) else { XCTFail("nothing at \(address)"); return 0 }
        return UInt32(truncatingIfNeeded: device.mmioRead(offset: offset, size: 4))
    }

    private func linuxInitPIC(_ devices: InterruptAndTimerDevices, autoEOI: Bool, masterMask: UInt8) {
        for (port, value) in [(0x21, 0xff), (0x20, 0x11), (0x21, 0x30), (0x21, 0x04), (0x21, autoEOI ? 0x03 : 0x01),
                              (0xa0, 0x11), (0xa1, 0x38), (0xa1, 0x02), (0xa1, 0x01),
                              (0x21, Int(masterMask)), (0xa1, 0xff)] as [(UInt16, Int)] {
            outb(devices, port, UInt8(value))
        }
    }

    private func linuxPeriodicPIT(_ devices: InterruptAndTimerDevices) {
        outb(devices, 0x43, 0x34)
        outb(devices, 0x40, UInt8(4773 & 0xff))
        outb(devices, 0x40, UInt8(4773 >> 8))
    }

    private func linuxSetupAPIC(_ devices: InterruptAndTimerDevices) {
        let base = LocalAPIC.defaultBase
        mmioWrite(devices, base + 0xf0, mmioRead(devices, base + 0xf0) & ~0x100)
        mmioWrite(devices, base + 0xe0, 0xffff_ffff)
        mmioWrite(devices, base + 0xd0, 0x0100_0000)
        mmioWrite(devices, base + 0x80, 0x10)
        mmioWrite(devices, base + 0xf0, 0x1ff)
        mmioWrite(devices, base + 0x350, 0x10700)
        mmioWrite(devices, base + 0x360, 0x400)
        mmioWrite(devices, base + 0x370, 0xfe)
    }

    private func writeEntry(_ devices: InterruptAndTimerDevices, pin: Int, low: UInt32, destination: UInt8 = 1) {
        let base = IOAPIC.defaultBase
        mmioWrite(devices, base, UInt32(0x11 + 2 * pin))
        mmioWrite(devices, base + 0x10, UInt32(destination) << 24)
        mmioWrite(devices, base, UInt32(0x10 + 2 * pin))
        mmioWrite(devices, base + 0x10, low)
    }

    /// The exit loop with a guest that keeps interrupts enabled and halts between them: wake at each deadline,
    /// inject what is due, let `handler` play the guest's interrupt handler. Returns the injected vectors.
    private func runHaltedGuest(_ devices: InterruptAndTimerDevices, until end: UInt64,
                                handler: (UInt8) -> Void) -> [UInt8] {
        var injected: [UInt8] = []
        var now = devices.localAPIC.now
        while true {
            while case .inject(let vector) = devices.routing.nextInjection(GuestInterruptibility(interruptsEnabled: true)) {
                injected.append(vector)
                handler(vector)
            }
            guard let deadline = devices.timers.nextDeadline, deadline <= end else { break }
            XCTAssertGreaterThan(deadline, now)
            now = deadline
            devices.timers.advance(to: now)
            XCTAssertTrue(devices.routing.wakesHaltedCPU(interruptsEnabled: true), "a deadline that wakes nobody")
        }
        devices.timers.advance(to: end)
        return injected
    }

    func testLookups() {
        let devices = InterruptAndTimerDevices(startTime: 0)
        for port: UInt16 in [0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1] { XCTAssertTrue(devices.portDevice(for: port) === devices.pic) }
        for port: UInt16 in 0x40...0x43 { XCTAssertTrue(devices.portDevice(for: port) === devices.pit) }
        XCTAssertTrue(devices.portDevice(for: 0x61) === devices.systemControl)
        XCTAssertTrue(devices.portDevice(for: 0x80) === devices.systemControl)
        XCTAssertTrue(devices.portDevice(for: 0x71) === devices.rtc)
        XCTAssertNil(devices.portDevice(for: 0x3f8))
        XCTAssertEqual(devices.mmioDevice(at: 0xfee0_0030)?.offset, 0x30)
        XCTAssertTrue(devices.mmioDevice(at: 0xfee0_0030)?.device === devices.localAPIC)
        XCTAssertTrue(devices.mmioDevice(at: 0xfec0_0010)?.device === devices.ioapic)
        XCTAssertNil(devices.mmioDevice(at: 0xfee0_1000))
        XCTAssertNil(devices.mmioDevice(at: 0xfec0_1000))
        XCTAssertTrue(devices.localAPIC.writeBaseMSR(0xfed0_0900))
        XCTAssertTrue(devices.mmioDevice(at: 0xfed0_0030)?.device === devices.localAPIC)
        XCTAssertNil(devices.mmioDevice(at: 0xfee0_0030))
    }

    func testTakeErrorsCollectsEveryDevice() {
        let devices = InterruptAndTimerDevices(startTime: 0)
        devices.pic.portWrite(0x20, size: 2, value: 0)
        devices.pit.portWrite(0x40, size: 2, value: 0)
        devices.systemControl.portWrite(0x61, size: 2, value: 0)
        devices.rtc.portWrite(0x70, size: 2, value: 0)
        devices.localAPIC.mmioWrite(offset: 0x80, size: 1, value: 0)
        devices.ioapic.mmioWrite(offset: 0x80, size: 4, value: 0)
        devices.routing.setLevel(line: 2, high: true)
        let taken = devices.takeErrors()
        XCTAssertEqual(taken.errors.count, 7)
        XCTAssertEqual(taken.dropped, 0)
        XCTAssertTrue(taken.errors.contains(.noSuchLine(2)))
        XCTAssertTrue(taken.errors.contains(.unsupportedAccess(.rtc, offset: 0x70, size: 2, write: true)))
        XCTAssertTrue(devices.takeErrors().errors.isEmpty)
    }

    func testVirtualWireTimerAt250HzBeforeTheIOAPIC() {
        let devices = InterruptAndTimerDevices(startTime: 0)
        linuxInitPIC(devices, autoEOI: false, masterMask: 0xfa)
        linuxPeriodicPIT(devices)
        let injected = runHaltedGuest(devices, until: second) { vector in
            XCTAssertEqual(vector, 0x30)
            self.outb(devices, 0x20, 0x60)   // the handler's specific EOI
        }
        // The control word's edge at 0 s, then one every 4.000228 ms.
        XCTAssertEqual(injected.count, 250)
    }

    func testTimerThroughIOAPICPin2AsAfterCheckTimer() {
        let devices = InterruptAndTimerDevices(startTime: 0)
        linuxSetupAPIC(devices)
        linuxInitPIC(devices, autoEOI: true, masterMask: 0xfb)   // check_timer: IRQ 0 masked at the 8259
        writeEntry(devices, pin: 2, low: 0x800 | 0x30)
        linuxPeriodicPIT(devices)
        let injected = runHaltedGuest(devices, until: 2 * second) { vector in
            XCTAssertEqual(vector, 0x30)
            self.mmioWrite(devices, LocalAPIC.defaultBase + 0xb0, 0)
        }
        XCTAssertEqual(injected.count, 500)
        XCTAssertTrue(devices.takeErrors().errors.isEmpty)
    }

    func testLocalAPICTimerTakesOverAt250Hz() {
        let devices = InterruptAndTimerDevices(startTime: 0)
        linuxSetupAPIC(devices)
        let base = LocalAPIC.defaultBase
        mmioWrite(devices, base + 0x320, 0x20000 | 0xec)
        mmioWrite(devices, base + 0x3e0, 0x3)
        mmioWrite(devices, base + 0x380, 250_000)
        let injected = runHaltedGuest(devices, until: second) { vector in
            XCTAssertEqual(vector, 0xec)
            self.mmioWrite(devices, base + 0xb0, 0)
        }
        XCTAssertEqual(injected.count, 250)
    }

    /// calibrate_APIC_clock's check: with the PIT's tick and the local APIC timer (programmed from the count it
    /// measured) both running, the two must agree on how much time went by.
    func testLinuxCalibrationAgreesWithThePIT() {
        let devices = InterruptAndTimerDevices(startTime: 0, apicTimerHertz: 200_000_000)
        linuxSetupAPIC(devices)
        writeEntry(devices, pin: 2, low: 0x800 | 0x30)
        linuxPeriodicPIT(devices)
        let base = LocalAPIC.defaultBase
        // Measure: a masked periodic timer from 0xffffffff / 16, read at two PIT ticks 25 jiffies apart.
        mmioWrite(devices, base + 0x320, 0x30000 | 0xec)
        mmioWrite(devices, base + 0x3e0, 0x3)
        mmioWrite(devices, base + 0x380, 0xffff_ffff / 16)
        var jiffies = 0
        var counts: [UInt32] = []
        _ = runHaltedGuest(devices, until: 120_000_000) { _ in
            jiffies += 1
            if jiffies == 1 || jiffies == 26 { counts.append(self.mmioRead(devices, base + 0x390)) }
            self.mmioWrite(devices, base + 0xb0, 0)
        }
        let period = (counts[0] - counts[1]) * 16 / 25   // lapic_timer_period: bus clocks per jiffy
        XCTAssertEqual(Double(period), 200_000_000 / 250, accuracy: 200_000_000 / 250 * 0.001)
        // Verify: both timers for 100 ms; the local APIC's ticks must match the jiffies.
        mmioWrite(devices, base + 0x320, 0x20000 | 0xec)
        mmioWrite(devices, base + 0x380, period / 16)
        var pitTicks = 0
        var apicTicks = 0
        _ = runHaltedGuest(devices, until: 220_000_000) { vector in
            if vector == 0x30 { pitTicks += 1 } else { apicTicks += 1 }
            self.mmioWrite(devices, base + 0xb0, 0)
        }
        XCTAssertEqual(pitTicks, 25)
        XCTAssertLessThanOrEqual(abs(apicTicks - pitTicks), 1)
    }

    func testInterruptWindowFlow() {
        let devices = InterruptAndTimerDevices(startTime: 0)
        linuxSetupAPIC(devices)
        writeEntry(devices, pin: 2, low: 0x800 | 0x30)
        linuxPeriodicPIT(devices)
        devices.timers.advance(to: devices.timers.nextDeadline ?? 0)
        // The guest runs with interrupts off: the VMM asks for a window and injects when it opens.
        XCTAssertEqual(devices.routing.nextInjection(GuestInterruptibility(interruptsEnabled: false)), .requestWindow)
        // The window exit comes after STI, in its shadow: still not.
        XCTAssertEqual(devices.routing.nextInjection(GuestInterruptibility(interruptsEnabled: true, interruptShadow: true)),
                       .requestWindow)
        XCTAssertEqual(devices.routing.nextInjection(GuestInterruptibility(interruptsEnabled: true)), .inject(vector: 0x30))
        XCTAssertEqual(devices.routing.nextInjection(GuestInterruptibility(interruptsEnabled: true)), .nothing)
    }

    func testLevelTriggeredPCILineAndItsEOI() {
        let devices = InterruptAndTimerDevices(startTime: 0)
        linuxSetupAPIC(devices)
        writeEntry(devices, pin: 16, low: 0xa000 | 0x800 | 0x41)   // level, active low (as _PRT says)
        let enabled = GuestInterruptibility(interruptsEnabled: true)
        devices.routing.setLevel(line: 16, high: true)
        XCTAssertEqual(devices.routing.nextInjection(enabled), .inject(vector: 0x41))
        // A handler that EOIs before the device let go gets the interrupt again...
        mmioWrite(devices, LocalAPIC.defaultBase + 0xb0, 0)
        XCTAssertEqual(devices.routing.nextInjection(enabled), .inject(vector: 0x41))
        // ...one that services the device first does not.
        devices.routing.setLevel(line: 16, high: false)
        mmioWrite(devices, LocalAPIC.defaultBase + 0xb0, 0)
        XCTAssertEqual(devices.routing.nextInjection(enabled), .nothing)
        XCTAssertEqual(devices.ioapic.redirectionEntry(16) & 0x4000, 0)
    }

    func testRTCInterruptThroughTheIOAPIC() {
        let devices = InterruptAndTimerDevices(startTime: 1_700_000_000)
        linuxSetupAPIC(devices)
        writeEntry(devices, pin: 8, low: 0x800 | 0x38)
        outb(devices, 0x70, 0x0b)
        outb(devices, 0x71, 0x12)   // update-ended interrupt
        let injected = runHaltedGuest(devices, until: 5 * second) { _ in
            self.outb(devices, 0x70, 0x0c)
            _ = self.inb(devices, 0x71)
            self.mmioWrite(devices, LocalAPIC.defaultBase + 0xb0, 0)
        }
        XCTAssertEqual(injected, [0x38, 0x38, 0x38, 0x38, 0x38])
    }

    /// Random port and MMIO writes, line changes, time advances and injections against all devices at once,
    /// after Linux's set-up, with invariants checked throughout.
    func testRandomizedProgrammingKeepsTheInvariants() {
        for seed: UInt64 in 1...8 {
            var random = SeededGenerator(seed: seed)
            let devices = InterruptAndTimerDevices(startTime: 1_700_000_000)
            func linuxSetup() {
                linuxSetupAPIC(devices)
                linuxInitPIC(devices, autoEOI: false, masterMask: 0x00)
                writeEntry(devices, pin: 2, low: 0x800 | 0x30)
                writeEntry(devices, pin: 16, low: 0xa000 | 0x800 | 0x41)
                linuxPeriodicPIT(devices)
            }
            linuxSetup()
            let ports: [UInt16] = [0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1, 0x40, 0x41, 0x42, 0x43, 0x61, 0x70, 0x71, 0x80]
            var acknowledged = Set<UInt8>()
            var injections = 0
            var now: UInt64 = 0
            for step in 0..<10_000 {
                // Random writes break the set-up sooner or later; a guest rebooting redoes it.
                if step % 1000 == 999 { linuxSetup() }
                switch Int.random(in: 0..<100, using: &random) {
                case 0..<10:
                    let port = ports.randomElement(using: &random)!
                    let size = [1, 1, 1, 2, 4].randomElement(using: &random)!
                    devices.portDevice(for: port)?.portWrite(port, size: size, value: UInt32.random(in: 0...0xffff_ffff, using: &random))
                case 10..<20:
                    let port = ports.randomElement(using: &random)!
                    _ = devices.portDevice(for: port)?.portRead(port, size: [1, 1, 2].randomElement(using: &random)!)
                case 20..<30:
                    let address = Bool.random(using: &random) ? LocalAPIC.defaultBase : IOAPIC.defaultBase
                    let offset = Bool.random(using: &random) ? UInt64.random(in: 0...0x3f, using: &random) * 0x10
                        : UInt64.random(in: 0...0xfff, using: &random)
                    let size = [1, 2, 4, 4, 4, 8].randomElement(using: &random)!
                    let value = UInt64.random(in: 0...UInt64.max, using: &random)
                    if let (device, offset) = devices.mmioDevice(at: address + offset) {
                        if Bool.random(using: &random) {
                            device.mmioWrite(offset: offset, size: size, value: value)
                        } else {
                            _ = device.mmioRead(offset: offset, size: size)
                        }
                    }
                case 30..<45:
                    devices.routing.setLevel(line: Int.random(in: -1...24, using: &random), high: Bool.random(using: &random))
                case 45..<60:
                    now += UInt64.random(in: 0...2_000_000, using: &random)
                    devices.timers.advance(to: now)
                    if let deadline = devices.timers.nextDeadline { XCTAssertGreaterThan(deadline, now) }
                case 60..<70:
                    if let deadline = devices.timers.nextDeadline {
                        now = max(now, deadline)
                        devices.timers.advance(to: now)
                        if let next = devices.timers.nextDeadline { XCTAssertGreaterThan(next, now) }
                    }
                case 70..<90:
                    let cpu = GuestInterruptibility(interruptsEnabled: Bool.random(using: &random),
                                                    interruptShadow: Int.random(in: 0..<4, using: &random) == 0,
                                                    nmiBlocked: Bool.random(using: &random),
                                                    eventPending: Int.random(in: 0..<8, using: &random) == 0)
                    let decision = devices.routing.nextInjection(cpu)
                    switch decision {
                    case .inject(let vector):
                        XCTAssertTrue(cpu.interruptsEnabled && !cpu.interruptShadow && !cpu.eventPending)
                        acknowledged.insert(vector)
                        injections += 1
                    case .injectNMI:
                        XCTAssertFalse(cpu.nmiBlocked || cpu.interruptShadow || cpu.eventPending)
                    case .requestWindow:
                        XCTAssertFalse(cpu.interruptsEnabled && !cpu.interruptShadow && !cpu.eventPending
                                       && !cpu.nmiBlocked, "a guest that can take it gets it")
                    case .nothing:
                        break
                    }
                default:
                    // The guest's handlers: EOIs to the local APIC and the 8259s.
                    mmioWrite(devices, LocalAPIC.defaultBase + 0xb0, 0)
                    outb(devices, 0x20, 0x20)
                    outb(devices, 0xa0, 0x20)
                }
                for vector in devices.localAPIC.inServiceVectors {
                    XCTAssertTrue(acknowledged.contains(vector), "ISR bit \(vector) was never acknowledged")
                }
                XCTAssertLessThanOrEqual(devices.localAPIC.errors.pending.count, DeviceErrorLog.capacity)
                if step % 500 == 0 { _ = devices.takeErrors() }
            }
            XCTAssertGreaterThan(injections, 100, "seed \(seed): the run delivered interrupts")
        }
    }
}
