import KernelABI
import Sim
import XCTest
@testable import Kernel

/// Message-signalled interrupts (assign_int on a message interrupt's semaphore; InterruptAssignment.swift): the
/// kernel hands out the message, a device's write of it into the LAPIC window (SimMSIDevice, programmed as a PCI
/// driver would) is an `up`, and nobody can bind a vector they were not given.
final class MessageInterruptTests: XCTestCase {
    static let devicePort: UInt16 = 0x1000

    /// The selector of message interrupt `index` in the root PD, and its interrupt number.
    private func message(_ index: UInt64) -> (selector: UInt64, number: UInt64) {
        (RootSelectors.interruptBase + RootSelectors.lineCount + index, RootSelectors.lineCount + index)
    }

    /// What the PCI driver does with the message: write it into the device's MSI capability and enable MSI.
    private func program(_ h: KernelHarness, _ device: SimMSIDevice, address: UInt64, data: UInt64) {
        for i in 0..<4 { h.machine.portOut(device.base + UInt16(i), UInt8(truncatingIfNeeded: address >> (8 * UInt64(i)))) }
        for i in 0..<2 { h.machine.portOut(device.base + 4 + UInt16(i), UInt8(truncatingIfNeeded: data >> (8 * UInt64(i)))) }
        h.machine.portOut(device.base + 6, 1)
    }

    /// Rings the device's doorbell and lets its message arrive; returns the interrupt number the CPU took.
    private func work(_ h: KernelHarness, _ device: SimMSIDevice) -> UInt64? {
        h.machine.portOut(device.base + 7, 1)
        h.machine.advance(by: device.latency)
        guard case .interrupt(let irq)? = h.machine.takePendingExit() else { return nil }
        h.kernel.handle(.interrupt(irq: irq), from: nil)
        return irq
    }

    func testAnAssignedMessageInterruptReturnsItsMessageAndTheDevicesWriteWakesTheDriver() throws {
        let h = try KernelHarness()
        let root = h.rootEC, (sel, number) = message(3)
        let sm = h.kernel.messageSemaphores[3]
        XCTAssertEqual(sm.irq, number)
        guard case .sm(let held)? = h.object(h.rootPD, sel) else { return XCTFail("no message semaphore at \(sel)") }
        XCTAssertTrue(held === sm)
        let device = SimMSIDevice(base: Self.devicePort)
        h.machine.attach(device)

        // Programmed before assignment: the vector exists but nobody was given it, so its message is dropped.
        let expected = MessageInterrupt.x86(vector: SimMessageInterrupts.vectorBase + 3, apicID: 0)
        program(h, device, address: expected.address, data: expected.data)
        XCTAssertEqual(work(h, device), number)
        XCTAssertEqual(sm.count, 0)
        XCTAssertEqual(h.kernel.statistics.droppedMessages, 1)

        XCTAssertEqual(h.call(root, .assignInt, sel, number), .returned(.success, 0xfee0_0000, 83 | 1 << 14))
        XCTAssertEqual(h.call(root, .ctrlSM, sel, SemaphoreOp.down.rawValue), .blocked)
        XCTAssertTrue(h.kernel.canStillWake, "a driver waits on an assigned message interrupt")
        XCTAssertEqual(work(h, device), number)
        XCTAssertEqual(root.state, .ready, "the device's MSI woke the driver")
        XCTAssertEqual(device.outcomes.last, .raised(index: 3))
        XCTAssertFalse(h.machine.interrupts.isInService(number), "an edge: nothing to acknowledge")

        // Edges are counted while the driver is busy, one per message taken by the CPU.
        XCTAssertEqual(work(h, device), number)
        XCTAssertEqual(work(h, device), number)
        XCTAssertEqual(sm.count, 2)
        XCTAssertFalse(sm.interruptHeld)
        XCTAssertEqual(h.call(root, .ctrlSM, sel, SemaphoreOp.down.rawValue), .returned(.success, 0, 0))
        XCTAssertEqual(h.kernel.invariantViolations(), [])
    }

    /// A driver holds only the message interrupt the root task gave it (with the assign right): it cannot bind any
    /// other vector, by selector, by number, or through a semaphore of its own.
    func testADriverCannotBindAVectorItWasNotGiven() throws {
        let h = try KernelHarness()
        let root = h.rootEC
        let (mine, myNumber) = message(1), (other, otherNumber) = message(2), (third, _) = message(4)
        let (_, driver) = h.makeChild(at: 310)
        XCTAssertEqual(h.status(root, .delegate, 310, CapabilityRange(
            kind: .object, base: mine, permissions: Permissions.smDown | Permissions.smAssign).word, 1), .success)
        XCTAssertEqual(h.status(root, .delegate, 310, CapabilityRange(
            kind: .object, base: third, permissions: Permissions.smDown).word, 2), .success)

        XCTAssertEqual(h.status(driver, .assignInt, 1, otherNumber), .badRange, "its semaphore, another number")
        XCTAssertEqual(h.status(driver, .assignInt, 1, RootSelectors.interruptCount), .badRange)
        XCTAssertEqual(h.status(driver, .assignInt, 2, otherNumber + 2), .insufficientRights, "no assign right")
        XCTAssertEqual(h.status(driver, .assignInt, other, otherNumber), .badSelector, "not held")
        XCTAssertEqual(h.status(driver, .createSM, 20, 0), .success)
        XCTAssertEqual(h.status(driver, .assignInt, 20, otherNumber), .badState, "an ordinary semaphore")
        XCTAssertEqual(h.status(driver, .assignInt, 1, myNumber, 4), .badRange, "unknown flag")

        XCTAssertEqual(h.call(driver, .assignInt, 1, myNumber), .returned(.success, 0xfee0_0000, 81 | 1 << 14))
        XCTAssertEqual(h.status(driver, .assignInt, 1, myNumber), .badState, "assigned already")
        XCTAssertEqual(h.status(root, .assignInt, mine, myNumber), .badState, "one assignment, whoever holds it")
        XCTAssertFalse(h.kernel.messageSemaphores[2].interruptAssigned)
        XCTAssertEqual(h.kernel.invariantViolations(), [])
    }

    /// Release (the root task's, at the driver's teardown): waiters aborted, what was counted dropped, later
    /// messages dropped; assigned again, the same vector serves the restarted driver.
    func testAReleasedMessageInterruptCanBeAssignedAgain() throws {
        let h = try KernelHarness()
        let root = h.rootEC, (sel, number) = message(0)
        let sm = h.kernel.messageSemaphores[0]
        let device = SimMSIDevice(base: Self.devicePort)
        h.machine.attach(device)
        guard case .returned(.success, let address, let data) = h.call(root, .assignInt, sel, number) else {
            return XCTFail("assign refused")
        }
        program(h, device, address: address, data: data)
        XCTAssertEqual(work(h, device), number)
        XCTAssertEqual(sm.count, 1)

        let (_, driver) = h.makeChild(at: 310)
        XCTAssertEqual(h.status(root, .delegate, 310, CapabilityRange(
            kind: .object, base: sel, permissions: Permissions.smDown).word, 1), .success)
        XCTAssertEqual(h.call(root, .ctrlSM, sel, SemaphoreOp.down.rawValue), .returned(.success, 0, 0))
        XCTAssertEqual(h.status(driver, .assignInt, 1, number, AssignFlags.release), .insufficientRights)
        XCTAssertEqual(h.call(driver, .ctrlSM, 1, SemaphoreOp.down.rawValue), .blocked)

        XCTAssertEqual(h.status(root, .assignInt, sel, number, AssignFlags.release), .success)
        XCTAssertEqual(driver.state, .ready)
        XCTAssertEqual(driver.context.rax, Status.aborted.rawValue)
        XCTAssertFalse(sm.interruptAssigned)
        XCTAssertEqual(work(h, device), number, "the device still sends (its driver did not disable MSI)")
        XCTAssertEqual(sm.count, 0, "but a released vector reaches nobody")
        XCTAssertEqual(h.kernel.statistics.droppedMessages, 1)
        XCTAssertEqual(h.kernel.invariantViolations(), [])

        XCTAssertEqual(h.call(root, .assignInt, sel, number), .returned(.success, address, data))
        XCTAssertEqual(work(h, device), number)
        XCTAssertEqual(sm.count, 1)
    }

    /// A machine with fewer vectors than message numbers: the rest cannot be assigned, and the checker would
    /// catch a kernel that assigned one anyway.
    func testAMessageInterruptTheMachineLacksIsRefused() throws {
        let h = try KernelHarness()
        h.machine.messages = SimMessageInterrupts(count: 4)
        let (sel, number) = message(5)
        XCTAssertEqual(h.status(h.rootEC, .assignInt, sel, number), .badRange)
        XCTAssertEqual(h.kernel.invariantViolations(), [])
        h.kernel.messageSemaphores[5].interruptAssigned = true
        XCTAssertEqual(h.kernel.invariantViolations().count, 1)
        h.kernel.messageSemaphores[5].interruptAssigned = false
        h.kernel.messageSemaphores[1].interruptHeld = true
        XCTAssertEqual(h.kernel.invariantViolations().count, 1, "a message interrupt is never held")
    }

    /// Writes a device could be made to send that are no message of the kernel's: ignored by the machine (as the
    /// LAPIC ignores them on one CPU), nothing reaches any semaphore. Any kernel vector can be spoofed, though:
    /// without interrupt remapping the kernel says so at boot.
    func testStrayDeviceWritesRaiseNothing() throws {
        let h = try KernelHarness()
        let (sel, number) = message(0)
        XCTAssertEqual(h.call(h.rootEC, .assignInt, sel, number), .returned(.success, 0xfee0_0000, 80 | 1 << 14))
        XCTAssertEqual(h.machine.deviceWrite(address: 0xfee0_1000, value: 80), .ignored("no CPU has APIC id 1"))
        XCTAssertEqual(h.machine.deviceWrite(address: 0xfee0_0000, value: 80 | 4 << 8), .ignored("delivery mode 4 is not fixed"))
        XCTAssertEqual(h.machine.deviceWrite(address: 0xfee0_0000, value: 32), .ignored("vector 32 is no message interrupt"))
        XCTAssertNil(h.machine.takePendingExit())
        XCTAssertEqual(h.machine.deviceWrite(address: 0xfee0_0000, value: 80), .raised(index: 0))
        XCTAssertEqual(h.machine.deviceWrite(address: 0xfee0_0000, value: 80), .raised(index: 0))
        XCTAssertEqual(h.machine.takePendingExit(), .interrupt(irq: number), "two messages before the CPU took one")
        XCTAssertNil(h.machine.takePendingExit())
    }
}
