import Foundation
import XCTest
@testable import GuestBoot

/// The loader's whole output booted for real: Debian's cloud kernel and the initramfs of tools/linux-guest/build,
/// placed by `LinuxBootLoader` in a memory image, with our e820 map, command line and ACPI tables (not QEMU's),
/// entered in the plan's 64-bit state by a stub firmware (QEMUFirmware/boot-stub.S) on QEMU q35 (TCG). The guest
/// must come up on our tables, find the virtio disk through our PCI0, print its markers and power off through our
/// FADT and \_S5. (QEMU's ICH9 takes SLP_TYP 0 as soft-off, so this platform's \_S5 says 0; the PM1 blocks are
/// where the FADT puts them, at the PMBASE the stub programs.)
final class LinuxBootQEMUTests: XCTestCase {
    static let ram = 256 << 20
    /// Where the stub finds the ACPI tables before it maps 0xe0000-0xfffff to RAM and copies them there.
    static let staging: UInt64 = 0x2_0000
    static let commandLine = "console=ttyS0 panic=-1"

    func testDebianKernelBootsOnOurBootParamsAndACPITables() throws {
        let kernel = try LinuxGuestArtifacts.kernel()
        let initrd = try LinuxGuestArtifacts.bytes("initramfs.cpio.gz")
        let disk = try LinuxGuestArtifacts.bytes("disk.img")
        let diskText = String(decoding: disk.prefix(512).prefix { $0 != 0x0a && $0 != 0 }, as: UTF8.self)

        var platform = GuestPlatform()
        platform.powerManagement.s5SleepType = 0
        let memory = TestRAM(size: Self.ram)
        let plan = try LinuxBootLoader.load(image: try LinuxImage(bytes: kernel), kernelByte: { kernel[Int($0)] },
                                            initrdSize: UInt64(initrd.count), initrdByte: { initrd[Int($0)] },
                                            commandLine: Self.commandLine, platform: platform, into: memory)
        let staging = BootRegion(name: "staging", address: Self.staging, size: 0x2_0000, requiredType: .usable)
        XCTAssertFalse(plan.regions.contains { $0.overlaps(staging) })

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("linux-qemu-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func blob(_ name: String, from start: UInt64, count: UInt64, loadAt address: UInt64) throws -> [String] {
            let url = folder.appendingPathComponent(name)
            try Data(memory.bytes[Int(start)..<Int(start + count)]).write(to: url)
            return ["-device", "loader,file=\(url.path),addr=0x" + String(address, radix: 16) + ",force-raw=on"]
        }
        let image = try LinuxImage(bytes: kernel)
        var loaders = try blob("low.bin", from: 0, count: LowMemoryLayout.pageTablesEnd, loadAt: 0)
        loaders += try blob("acpi.bin", from: LowMemoryLayout.acpiTables, count: 0x2_0000, loadAt: Self.staging)
        loaders += try blob("kernel.bin", from: plan.kernelAddress, count: image.kernelSize, loadAt: plan.kernelAddress)
        loaders += try blob("initrd.bin", from: plan.initrdAddress, count: plan.initrdSize, loadAt: plan.initrdAddress)
        let firmware = try assembleStub(plan, pmBase: platform.powerManagement.eventBlock, in: folder)
        let diskCopy = folder.appendingPathComponent("disk.img")
        try Data(disk).write(to: diskCopy)

        let start = Date()
        let (status, output) = try run("/usr/bin/timeout", ["180", "qemu-system-x86_64", "-machine", "q35", "-accel", "tcg",
            "-m", "256", "-nographic", "-no-reboot", "-bios", firmware.path] + loaders
            + ["-drive", "file=\(diskCopy.path),if=none,id=d0,format=raw", "-device", "virtio-blk-pci,drive=d0,disable-legacy=on"],
            in: folder)
        let seconds = Date().timeIntervalSince(start)
        print("LinuxBootQEMUTests: the guest ran \(String(format: "%.1f", seconds)) s (TCG) on the loader's boot_params and ACPI tables")
        XCTAssertEqual(status, 0, output)

        // Linux took our command line, our e820 map and our tables.
        var expected = ["Command line: " + Self.commandLine,
                        "ACPI: RSDP 0x00000000000E0000 000024 (v02 SWIFTH)",
                        "ACPI: FACP 0x", "ACPI: DSDT 0x", "ACPI: FACS 0x", "ACPI: APIC 0x",
                        "ACPI: PM: (supports S0 S5)",
                        "ACPI: PCI Root Bridge [PCI0] (domain 0000 [bus 00-ff])",
                        "LINUX-GUEST: init started",
                        "LINUX-GUEST: disk says " + diskText,
                        "ACPI: PM: Preparing to enter system sleep state S5",
                        "reboot: Power down"]
        for entry in plan.e820.entries {
            let type = entry.type == .usable ? "usable" : "reserved"
            expected.append("BIOS-e820: [mem 0x" + hex16(entry.address) + "-0x" + hex16(entry.end - 1) + "] " + type)
        }
        for line in expected { XCTAssertTrue(output.contains(line), "missing '\(line)' in:\n\(output)") }
        XCTAssertFalse(output.contains("Kernel panic"), output)
        XCTAssertFalse(output.contains("ACPI Error"), output)
        XCTAssertFalse(output.contains("ACPI BIOS Warning"), output)
        XCTAssertFalse(output.contains("ACPI Warning"), output)
    }

    private func hex16(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// boot-stub.S with the plan's values, as a 64 KiB flat binary.
    private func assembleStub(_ plan: LinuxBootPlan, pmBase: UInt16, in folder: URL) throws -> URL {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("QEMUFirmware/boot-stub.S")
        let object = folder.appendingPathComponent("boot-stub.o")
        let binary = folder.appendingPathComponent("boot-stub.bin")
        let symbols: [(String, UInt64)] = [("CR3", plan.cr3), ("GDT_BASE", plan.gdtBase), ("GDT_LIMIT", UInt64(plan.gdtLimit)),
                                           ("CODE_SEL", UInt64(plan.codeSelector)), ("DATA_SEL", UInt64(plan.dataSelector)),
                                           ("RIP", plan.rip), ("RSI", plan.rsi), ("RSP", plan.rsp),
                                           ("PM_BASE", UInt64(pmBase)), ("STAGING", Self.staging)]
        let defsyms = symbols.flatMap { ["--defsym", "\($0.0)=0x" + String($0.1, radix: 16)] }
        let (asStatus, asOutput) = try run("/usr/bin/as", ["--64"] + defsyms + ["-o", object.path, source.path], in: folder)
        XCTAssertEqual(asStatus, 0, asOutput)
        let (ldStatus, ldOutput) = try run("/usr/bin/ld", ["-Ttext=0", "-e", "0", "--oformat=binary", "-o", binary.path, object.path],
                                           in: folder)
        XCTAssertEqual(ldStatus, 0, ldOutput)
        XCTAssertEqual(try Data(contentsOf: binary).count, 0x1_0000)
        return binary
    }

    private func run(_ tool: String, _ arguments: [String], in folder: URL) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.standardInput = FileHandle.nullDevice
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }
}
