import Foundation
import XCTest

/// Message-signalled interrupts on the image (Tests/ImageTests/Manifests/msi.toml): msicheck assigns its message
/// interrupt, writes the message the kernel returned into a QEMU e1000e's MSI capability and receives the device's
/// MSIs on its semaphore; and the kernel's boot line about DMA and MSI confinement, without and with an IOMMU.
final class MessageInterruptImageTests: XCTestCase {
    static let unconfined = "MSI vectors are not confined, DMA is not confined"

    /// Builds msi.toml into an image and boots it in QEMU with `devices` added (tools/run --device).
    private func bootMSIManifest(devices: [String]) throws -> ImageTools.Result {
        let mkimage = try BuiltImage.require(BuiltImage.mkimage)
        let binaries = try BuiltImage.require(BuiltImage.out.appendingPathComponent("binaries"))
        let dir = try BuiltImage.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = dir.appendingPathComponent("msi.img")
        let manifest = ImageTools.repositoryRoot.appendingPathComponent("Tests/ImageTests/Manifests/msi.toml")
        let built = try ImageTools.run(mkimage.path, [
            "build", "--manifest", manifest.path, "--binaries", binaries.path,
            "--loader", BuiltImage.out.appendingPathComponent("efi/BOOTX64.EFI").path,
            "--kernel", BuiltImage.out.appendingPathComponent("kernel.elf").path, "-o", image.path,
        ])
        XCTAssertEqual(built.status, 0, built.output)
        return try ImageTools.runScript([image.path, "--timeout", "60"] + devices.flatMap { ["--device", $0] })
    }

    /// msicheck's lines in order; `message` is the one naming the kernel's message, `remapping` those only an
    /// interrupt-remapping boot has.
    private func checkMSIs(_ result: ImageTools.Result, message: String, remapping: [String] = [],
                           file: StaticString = #filePath, line: UInt = #line) {
        let output = result.output
        XCTAssertEqual(result.status, 0, output, file: file, line: line)
        XCTAssertFalse(output.contains("msicheck: error"), output, file: file, line: line)
        XCTAssertFalse(output.contains("root: msicheck faulted"), output, file: file, line: line)
        let lines = output.split(whereSeparator: \.isNewline).map { String($0).trimmingCharacters(in: .whitespaces) }
        let expected = [
            "msicheck: hostile: another vector's selector bad selector, another number bad range, its own semaphore bad state",
            message,
            "msicheck: 8 MSIs from the e1000e received",
            "msicheck: quiet: a 30 ms timed down returned timeout",
            "msicheck: release returned success",
            "msicheck: released: the device's MSI reached nobody, a timed down returned timeout",
            "msicheck: assigned again: success, the same message: true",
            "msicheck: assigned again: the next MSI's down returned success",
        ] + remapping + [
            "msicheck: DMA: the e1000e's transmit ring points at 0x1000000000, memory msicheck does not hold",
        ]
        XCTAssertTrue(lines.contains { $0.hasPrefix("msicheck: e1000e at 00:") && $0.hasSuffix("MSI capability at 0xd0") },
                      output, file: file, line: line)
        var previous = -1
        for text in expected {
            let index = lines.firstIndex(of: text)
            XCTAssertNotNil(index, "missing '\(text)': \(output)", file: file, line: line)
            if let index {
                XCTAssertGreaterThan(index, previous, "out of order: '\(text)'", file: file, line: line)
                previous = index
            }
        }
    }

    /// tools/run's --device needs a device: without one it is a usage error and QEMU never starts.
    func testRunRefusesADeviceOptionWithoutADevice() throws {
        let image = FileManager.default.temporaryDirectory.appendingPathComponent("run-device-test.img")
        FileManager.default.createFile(atPath: image.path, contents: Data([0]))
        defer { try? FileManager.default.removeItem(at: image) }
        for arguments in [[image.path, "--device"], [image.path, "--device", ""]] {
            let result = try ImageTools.runScript(arguments)
            XCTAssertEqual(result.status, 1, result.output)
            XCTAssertTrue(result.output.contains("usage: tools/run IMAGE") && result.output.contains("[--device SPEC]"),
                          result.output)
        }
    }

    func testAnE1000EsMSIsReachTheSemaphoreOfItsMessageInterrupt() throws {
        let result = try bootMSIManifest(devices: ["e1000e"])
        // Message interrupt 0 is vector 80 on the boot CPU (APIC id 0): fixed delivery, edge.
        checkMSIs(result, message: "msicheck: message interrupt 24: address 0xfee00000 data 0x4050")
        let lines = result.output.split(whereSeparator: \.isNewline).map { String($0).trimmingCharacters(in: .whitespaces) }
        XCTAssertTrue(lines.contains("kernel: no IOMMU (ACPI lists no DMAR table): \(Self.unconfined)"), result.output)
        XCTAssertTrue(lines.contains("root: no IOMMU: DMA of PCI devices is not confined (drivers are trusted code)"), result.output)
        XCTAssertFalse(result.output.contains("msicheck: remapping:"), "no remapping, no remapping checks: \(result.output)")
        XCTAssertFalse(result.output.contains("kernel: DMA fault"), "no IOMMU, nothing blocked: \(result.output)")
    }

    /// With QEMU's VT-d and `intremap=on` the kernel turns DMA and interrupt remapping on: the e1000e, bound to
    /// msicheck's PD, gets a remappable-format message (handle 24) and its MSIs arrive through the remapping
    /// entry; assign_int for a device msicheck does not own is refused; the device sending another entry's handle
    /// (its INTx line's, which admits only the IOAPIC) raises nothing, blocked by source validation (QEMU 7.2 drops
    /// such a message and says so on its stderr; it records no interrupt-remapping fault, so the kernel's fault
    /// line for it is tested on the simulator and in InterruptRemapEntryTests); and DMA to memory msicheck does
    /// not hold is blocked and reported.
    func testWithAVTdIOMMUMessagesAreRemappedAndConfinedAndForeignDMAIsBlocked() throws {
        let result = try bootMSIManifest(devices: ["intel-iommu,aw-bits=48,intremap=on", "e1000e"])
        let output = result.output
        let lines = output.split(whereSeparator: \.isNewline).map { String($0).trimmingCharacters(in: .whitespaces) }
        let line = try XCTUnwrap(lines.first { $0.hasPrefix("msicheck: remapping: the e1000e sent irq ") }, output)
        let irq = try XCTUnwrap(line.split(separator: " ").dropFirst(6).first.flatMap { UInt64($0.dropLast(2)) }, line)
        XCTAssertLessThan(irq, 24, "the e1000e's INTx line")
        checkMSIs(result, message: "msicheck: message interrupt 24: address 0xfee00318 data 0x0", remapping: [
            "msicheck: remapping: assigning for device 00:1f.0 (not msicheck's) returned insufficient rights, for its own success",
            "msicheck: remapping: the e1000e sent irq \(irq)'s handle (the IOAPIC's entry): a timed down on that line "
                + "returned timeout, on its own timeout",
            "msicheck: remapping: its own message again: down returned success",
        ])
        XCTAssertTrue(lines.contains("kernel: IOMMU: VT-d, 1 remapping unit (0xfed90000), 48-bit addresses, interrupt "
                                     + "remapping; DMA remapping on (a device reaches only the memory of the PD it is "
                                     + "bound to), interrupt remapping on: MSI vectors are confined (a device raises "
                                     + "only the message interrupts assigned for it)"), output)
        XCTAssertTrue(lines.contains("root: msicheck: PCI device 00:02.0 bound to the IOMMU (DMA reaches its memory only)"), output)
        // QEMU's own account of what its IOMMU dropped (stderr): the released interrupt's entry not present, and the
        // e1000e (source 0x10 = 16) refused by the line's entry, which admits the IOAPIC (0xff00 = 65280) only.
        XCTAssertTrue(output.contains("vtd_irte_get: detected non-present IRTE (index=24, high=0x0, low=0x0)"), output)
        XCTAssertTrue(output.contains("vtd_irte_get: invalid IRTE SID (index=\(irq), sid=16, source_id=65280)"), output)
        let fault = "kernel: DMA fault: device 00:02.0 read at 0x1000000000 blocked: reason 0x6 (read not permitted: memory the PD does not hold)"
        XCTAssertTrue(lines.contains(fault), output)
        if let f = lines.firstIndex(of: fault), let m = lines.firstIndex(where: { $0.hasPrefix("msicheck: remapping: its own") }) {
            XCTAssertLessThan(m, f, "the fault comes from the DMA attempt, after the MSIs")
        }
    }
}
