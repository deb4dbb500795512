import KernelABI
import Sim
import XCTest
@testable import Kernel

/// Interrupt remapping (InterruptAssignment.swift with the simulator's IOMMU remapping messages): a message
/// interrupt is assigned for one device its assigner owns, its remapping entry is present exactly while it is
/// assigned and admits only that device, and every other message (another device, compatibility format, a released
/// interrupt's) is blocked and recorded as a fault with its VT-d reason. The invariant checker compares the
/// entries with the assignments.
final class InterruptRemappingTests: XCTestCase {
    static let devicePort: UInt16 = 0x1000
    static let strangerPort: UInt16 = 0x1010
    static let device: UInt64 = 0x0010   // 00:02.0, bound to the driver's PD
    static let stranger: UInt64 = 0x0018 // 00:03.0, nobody's

    private func message(_ index: UInt64) -> (selector: UInt64, number: UInt64) {
        (RootSelectors.interruptBase + RootSelectors.lineCount + index, RootSelectors.lineCount + index)
    }

    private func program(_ h: KernelHarness, _ device: SimMSIDevice, _ m: MessageInterrupt) {
        for i in 0..<4 { h.machine.portOut(device.base + UInt16(i), UInt8(truncatingIfNeeded: m.address >> (8 * UInt64(i)))) }
        for i in 0..<2 { h.machine.portOut(device.base + 4 + UInt16(i), UInt8(truncatingIfNeeded: m.data >> (8 * UInt64(i)))) }
        h.machine.portOut(device.base + 6, 1)
    }

    /// Rings the doorbell; the interrupt number the CPU took, nil when the message was blocked.
    private func work(_ h: KernelHarness, _ device: SimMSIDevice) -> UInt64? {
        h.machine.portOut(device.base + 7, 1)
        h.machine.advance(by: device.latency)
        guard case .interrupt(let irq)? = h.machine.takePendingExit() else { return nil }
        h.kernel.handle(.interrupt(irq: irq), from: nil)
        return irq
    }

    /// A harness whose IOMMU remaps interrupts, a driver PD (at 310) holding message interrupt 1 at selector 1
    /// (down + assign) with device 00:02.0 bound to it, and the two devices.
    private func driver() throws -> (KernelHarness, ExecutionContext, SimMSIDevice, SimMSIDevice) {
        let h = try KernelHarness()
        h.machine.installIOMMU(interruptRemapping: true)
        let (_, driver) = h.makeChild(at: 310)
        XCTAssertEqual(h.status(h.rootEC, .delegate, 310, CapabilityRange(
            kind: .object, base: message(1).selector, permissions: Permissions.smDown | Permissions.smAssign).word, 1), .success)
        XCTAssertEqual(h.status(h.rootEC, .assignDev, 310, Self.device), .success)
        let mine = SimMSIDevice(base: Self.devicePort, requester: Self.device)
        let other = SimMSIDevice(base: Self.strangerPort, requester: Self.stranger)
        h.machine.attach(mine)
        h.machine.attach(other)
        return (h, driver, mine, other)
    }

    func testAMessageInterruptIsAssignedForTheCallersDeviceOnlyAndItsEntryAdmitsThatDevice() throws {
        let (h, driver, mine, other) = try driver()
        let iommu = try XCTUnwrap(h.machine.iommu)
        let number = message(1).number
        XCTAssertNil(h.kernel.platform.remappedRequester(ofMessage: 1), "not present before assignment")

        XCTAssertEqual(h.status(driver, .assignInt, 1, number, 0, Self.stranger), .insufficientRights,
                       "a device bound to no PD (or to another) is not the driver's")
        XCTAssertEqual(h.status(driver, .assignInt, 1, number, 0, 1 << 16), .badRange, "a requester ID is 16 bits")
        XCTAssertFalse(h.kernel.messageSemaphores[1].interruptAssigned, "refusals change nothing")
        let remappable = MessageInterrupt.remappable(handle: UInt16(number))
        XCTAssertEqual(h.call(driver, .assignInt, 1, number, 0, Self.device),
                       .returned(.success, remappable.address, remappable.data))
        XCTAssertEqual(h.kernel.platform.remappedRequester(ofMessage: 1), Self.device)
        XCTAssertEqual(h.kernel.invariantViolations(), [])

        // Its own device's message arrives at the vector the entry names.
        program(h, mine, remappable)
        XCTAssertEqual(work(h, mine), number)
        XCTAssertEqual(h.kernel.messageSemaphores[1].count, 1)

        // Another device writing the same message: source validation blocks it, recorded with the handle.
        program(h, other, remappable)
        XCTAssertNil(work(h, other))
        XCTAssertEqual(iommu.faults.last, .init(requester: Self.stranger, address: number, write: true, reason: .sourceInvalid))
        XCTAssertEqual(iommu.faults.last?.description,
                       "interrupt remapping fault: device 00:03.0 message with handle 25: reason 0x26, the entry admits another requester")
        // The driver's own device sending a compatibility-format message for its own vector: blocked too (CFI off).
        program(h, mine, .x86(vector: SimMessageInterrupts.vectorBase + 1, apicID: 0))
        XCTAssertNil(work(h, mine))
        XCTAssertEqual(iommu.faults.last?.reason, .compatibilityBlocked)
        XCTAssertEqual(h.kernel.messageSemaphores[1].count, 1, "only the legitimate message counted")

        // Released: the entry is not present, so the device keeping the old message faults.
        XCTAssertEqual(h.status(driver, .assignInt, 1, number, AssignFlags.release), .success)
        XCTAssertNil(h.kernel.platform.remappedRequester(ofMessage: 1))
        program(h, mine, remappable)
        XCTAssertNil(work(h, mine))
        XCTAssertEqual(iommu.faults.last, .init(requester: Self.device, address: number, write: true, reason: .entryNotPresent))
        XCTAssertEqual(h.kernel.invariantViolations(), [])

        // Assigned again: the same message, present again (the entry cache was invalidated, not stale).
        XCTAssertEqual(h.call(driver, .assignInt, 1, number, 0, Self.device),
                       .returned(.success, remappable.address, remappable.data))
        XCTAssertEqual(work(h, mine), number)
        XCTAssertEqual(h.kernel.invariantViolations(), [])
    }

    /// Unbinding the device (the root takes it away, or its PD dies) releases the message interrupts assigned for
    /// it: the entry goes, the waiting driver is aborted, and the device can no longer reach the old owner.
    func testUnbindingTheDeviceReleasesItsMessageInterrupts() throws {
        let (h, driver, mine, _) = try driver()
        let iommu = try XCTUnwrap(h.machine.iommu)
        let number = message(1).number
        let remappable = MessageInterrupt.remappable(handle: UInt16(number))
        XCTAssertEqual(h.status(driver, .assignInt, 1, number, 0, Self.device), .success)
        XCTAssertEqual(h.call(driver, .ctrlSM, 1, SemaphoreOp.down.rawValue), .blocked)
        XCTAssertEqual(h.status(h.rootEC, .assignDev, 310, Self.device, AssignFlags.release), .success)
        XCTAssertEqual(driver.context.rax, Status.aborted.rawValue, "its waiter is aborted")
        XCTAssertFalse(h.kernel.messageSemaphores[1].interruptAssigned)
        XCTAssertNil(h.kernel.platform.remappedRequester(ofMessage: 1))
        program(h, mine, remappable)
        XCTAssertNil(work(h, mine))
        XCTAssertEqual(iommu.faults.last?.reason, .entryNotPresent)
        XCTAssertEqual(h.status(driver, .assignInt, 1, number, 0, Self.device), .insufficientRights, "no longer its device")
        XCTAssertEqual(h.kernel.invariantViolations(), [])
    }

    func testTheRootMayAssignForAnyDeviceAndTheCheckerComparesEntriesWithAssignments() throws {
        let (h, _, _, _) = try driver()
        let iommu = try XCTUnwrap(h.machine.iommu)
        let (sel, number) = message(2)
        XCTAssertEqual(h.status(h.rootEC, .assignInt, sel, number, 0, Self.stranger), .success,
                       "the root decides bindings: it learns messages for devices before they are bound")
        XCTAssertEqual(h.kernel.platform.remappedRequester(ofMessage: 2), Self.stranger)
        XCTAssertEqual(h.kernel.invariantViolations(), [])

        // An entry that disagrees with the assignment (another source), and a present entry nobody assigned.
        let forged = InterruptRemapEntry.remapped(vector: 82, apicID: 0, level: false, source: 0x99)
        iommu.writeEntry(number, low: forged.low, high: forged.high)
        iommu.writeEntry(number + 1, low: forged.low, high: forged.high)
        XCTAssertEqual(h.kernel.invariantViolations(), [
            "message interrupt 2's remapping entry admits 0x99 but device 0x18 has it assigned",
            "message interrupt 3's remapping entry admits 0x99 but it is not assigned",
        ])
    }

    func testWithoutInterruptRemappingTheRequesterIsIgnoredAndMessagesAreCompatibilityFormat() throws {
        let h = try KernelHarness()
        h.machine.installIOMMU() // DMA remapping only
        let (sel, number) = message(0)
        XCTAssertEqual(h.call(h.rootEC, .assignInt, sel, number, 0, 0x1234),
                       .returned(.success, 0xfee0_0000, 80 | 1 << 14))
        XCTAssertNil(h.kernel.messageSemaphores[0].interruptRequester)
        XCTAssertEqual(h.status(h.rootEC, .assignInt, sel + 1, number + 1, 0, 1 << 16), .badRange,
                       "still a 16-bit requester")
        XCTAssertEqual(h.kernel.invariantViolations(), [])
    }
}
