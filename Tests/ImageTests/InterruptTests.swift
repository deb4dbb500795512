import Foundation
import XCTest

/// A real device interrupt on the image: the root task assigns IRQ 8 to irqcheck's interrupt semaphore, the CMOS
/// RTC's periodic interrupt comes through the IOAPIC, and irqcheck's `down` returns once per interrupt; then the
/// level-triggered ACPI SCI (IRQ 9) is held masked until irqcheck waits again.
final class InterruptTests: XCTestCase {
    func testRTCInterruptsReachTheComponentAndATimedDownTimesOutWhenTheyStop() throws {
        check(try BuiltImage.bootTestManifest("irq"))
    }

    /// The same lines through VT-d interrupt remapping: every IOAPIC pin in remappable format, its entry admitting
    /// the IOAPIC only; the edge RTC and the held level SCI behave as without it.
    func testTheSameLinesArriveThroughInterruptRemapping() throws {
        let result = try BuiltImage.bootTestManifest("irq", devices: ["intel-iommu,aw-bits=48,intremap=on"])
        XCTAssertTrue(result.output.contains("interrupt remapping on: MSI vectors are confined"), result.output)
        check(result)
    }

    private func check(_ result: ImageTools.Result) {
        let output = result.output
        XCTAssertEqual(result.status, 0, output)
        XCTAssertFalse(output.contains("irqcheck: error"), output)
        XCTAssertFalse(output.contains("root: cannot start"), output)
        XCTAssertFalse(output.contains("root: irqcheck faulted"), output)
        let lines = output.split(whereSeparator: \.isNewline).map(String.init)
        // The kernel read q35's MADT: IRQ 0 arrives at GSI 2, IRQs 5, 9, 10, 11 are level-triggered, active-high.
        XCTAssertTrue(lines.contains("kernel: ACPI MADT interrupt overrides: irq 0 -> gsi 2 edge/high, irq 5 level/high, "
                                     + "irq 9 level/high, irq 10 level/high, irq 11 level/high"), output)
        let counted = lines.first { $0.hasPrefix("irqcheck: 32 RTC interrupts received in ") }
        XCTAssertNotNil(counted, output)
        // Paced by the device, not a burst of stale ups: 32 periods at 1024 Hz are about 31 ms (margin for the
        // TSC calibration and the first period starting at once).
        let elapsed = counted.flatMap { Int($0.split(separator: " ")[6]) }
        XCTAssertGreaterThanOrEqual(elapsed ?? 0, 20, output)
        for when in ["before enabling the RTC", "after disabling the RTC"] {
            XCTAssertTrue(lines.contains { $0.hasPrefix("irqcheck: \(when): a 30 ms timed down returned timeout after ") },
                          "missing timeout \(when): \(output)")
        }
        // A level line (the ACPI SCI, IRQ 9): one wakeup; held masked while asserted, re-delivered when irqcheck
        // waits again; acknowledged at the device, quiet (no ups were counted while it was held).
        XCTAssertTrue(lines.contains("irqcheck: SCI (irq 9): first down returned success, PM timer status set"), output)
        XCTAssertTrue(lines.contains("irqcheck: SCI (irq 9): still asserted, the next down returned success"), output)
        XCTAssertTrue(lines.contains("irqcheck: SCI (irq 9): acknowledged, a timed down returned timeout"), output)
        // The order proves the interrupts came while enabled: quiet, 32 interrupts, quiet again.
        let before = lines.firstIndex { $0.hasPrefix("irqcheck: before enabling") }
        let after = lines.firstIndex { $0.hasPrefix("irqcheck: after disabling") }
        let count = lines.firstIndex { $0.hasPrefix("irqcheck: 32 RTC") }
        if let before, let after, let count {
            XCTAssertLessThan(before, count)
            XCTAssertLessThan(count, after)
        }
    }
}
